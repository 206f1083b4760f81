// The input form built from a workflow's input.schema.
import { describe, expect, it } from "vitest";
import { fieldsOf, fieldText, fieldValue, inputSchemaOf, missingRequired, withProperty } from "../src/runs/schemaForm";

const SCHEMA = {
  type: "object",
  required: ["order", "amount"],
  properties: {
    order: { type: "string", description: "the order's id" },
    amount: { type: "integer" },
    rate: { type: ["number", "null"] },
    express: { type: "boolean" },
    currency: { enum: ["EUR", "USD"] },
    items: { type: "array", items: { type: "string" } },
  },
};

describe("input form from input.schema", () => {
  it("reads the schema of a workflow's input (format json only)", () => {
    expect(inputSchemaOf({ input: { schema: { format: "json", document: SCHEMA } } })).toBe(SCHEMA);
    expect(inputSchemaOf({ input: { schema: { document: SCHEMA } } })).toBe(SCHEMA);
    expect(inputSchemaOf({ input: { schema: { format: "avro", document: SCHEMA } } })).toBeNull();
    expect(inputSchemaOf({ input: { schema: { resource: { endpoint: "x" } } } })).toBeNull();
    expect(inputSchemaOf({ do: [] })).toBeNull();
    expect(inputSchemaOf(undefined)).toBeNull();
  });

  it("makes a field per property, by kind, required ones marked", () => {
    expect(fieldsOf(SCHEMA)).toEqual([
      { name: "order", kind: "string", required: true, description: "the order's id" },
      { name: "amount", kind: "integer", required: true },
      { name: "rate", kind: "number", required: false },
      { name: "express", kind: "boolean", required: false },
      { name: "currency", kind: "enum", required: false, options: ["EUR", "USD"] },
      { name: "items", kind: "json", required: false },
    ]);
    expect(fieldsOf({ type: "array", items: {} })).toBeNull();
    expect(fieldsOf(null)).toBeNull();
  });

  it("turns field text into values, with a message naming the field when it cannot", () => {
    const [order, amount, rate, express, currency, items] = fieldsOf(SCHEMA)!;
    expect(fieldValue(order, "A-17")).toBe("A-17");
    expect(fieldValue(amount, "42")).toBe(42);
    expect(() => fieldValue(amount, "4.5")).toThrow("amount: 4.5 is not a whole number");
    expect(() => fieldValue(rate, "abc")).toThrow('rate: "abc" is not a number');
    expect(fieldValue(rate, "")).toBeUndefined();
    expect(fieldValue(express, "true")).toBe(true);
    expect(fieldValue(currency, '"USD"')).toBe("USD");
    expect(fieldValue(items, '["a", "b"]')).toEqual(["a", "b"]);
    expect(() => fieldValue(items, "[")).toThrow(/^items: not JSON/);
    expect(fieldText(items, ["a"])).toBe('[\n  "a"\n]');
    expect(fieldText(amount, 3)).toBe("3");
    expect(fieldText(order, undefined)).toBe("");
  });

  it("rewrites the JSON text one property at a time, keeping the others", () => {
    const text = withProperty('{"order": "A", "note": "kept"}', "amount", 3);
    expect(JSON.parse(text)).toEqual({ order: "A", note: "kept", amount: 3 });
    expect(JSON.parse(withProperty(text, "order", undefined))).toEqual({ note: "kept", amount: 3 });
    expect(JSON.parse(withProperty("not json", "order", "B"))).toEqual({ order: "B" });
    const fields = fieldsOf(SCHEMA)!;
    expect(missingRequired(fields, text)).toEqual([]);
    expect(missingRequired(fields, '{"order": "A"}')).toEqual(["amount"]);
  });
});
