/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built assets go inside the Python package, where `flowapp up` serves them from
// and where a wheel picks them up (see dashboard/README.md).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../flowapp/server/dashboard_assets",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
  },
  worker: { format: "es" },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080", "/git": "http://127.0.0.1:8080" },
  },
  test: {
    include: ["test/**/*.test.ts"],
    benchmark: { include: ["test/**/*.bench.ts"] },
    environment: "node",
  },
});
