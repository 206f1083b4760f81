// A form for a workflow's input, read from its `input.schema` (JSON Schema, `format:
// json`): one field per property of an object schema. Strings, numbers, integers,
// booleans and enums get their own controls; anything else (objects, arrays) is a JSON
// field. The JSON text stays the source of truth: a field's edit rewrites it.

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export interface InputField {
  name: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  options?: unknown[]; // enum values
}

type Schema = Record<string, unknown>;

/** The JSON Schema of a workflow's input (`input.schema.document`), if it has one. */
export function inputSchemaOf(workflow: unknown): Schema | null {
  const input = (workflow as Schema | null)?.input as Schema | undefined;
  const schema = input?.schema as Schema | undefined;
  if (!schema || (schema.format !== undefined && schema.format !== "json")) return null;
  const document = schema.document;
  return document && typeof document === "object" && !Array.isArray(document) ? (document as Schema) : null;
}

/** The fields of an object schema; null when the input is not an object of properties. */
export function fieldsOf(schema: Schema | null): InputField[] | null {
  if (!schema || typeof schema.properties !== "object" || schema.properties === null) return null;
  if (schema.type !== undefined && schema.type !== "object") return null;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(schema.properties as Record<string, Schema>).map(([name, property]) => {
    const field: InputField = { name, kind: kindOf(property ?? {}), required: required.has(name) };
    if (typeof property?.description === "string") field.description = property.description;
    if (field.kind === "enum") field.options = property.enum as unknown[];
    return field;
  });
}

function kindOf(property: Schema): FieldKind {
  if (Array.isArray(property.enum) && property.enum.every((v) => typeof v !== "object" || v === null)) return "enum";
  const type = Array.isArray(property.type) ? property.type.filter((t) => t !== "null")[0] : property.type;
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") return type;
  return "json";
}

/** What a field shows for ``value`` (its property of the input object). */
export function fieldText(field: InputField, value: unknown): string {
  if (value === undefined) return "";
  if (field.kind === "string") return typeof value === "string" ? value : JSON.stringify(value);
  if (field.kind === "enum") return JSON.stringify(value);
  if (field.kind === "boolean") return value === true ? "true" : value === false ? "false" : "";
  if (field.kind === "number" || field.kind === "integer") return typeof value === "number" ? String(value) : JSON.stringify(value);
  return JSON.stringify(value, null, 2);
}

/** The value a field's text stands for; ``undefined`` leaves the property out. Throws
 * with a message naming the field when the text is not one. */
export function fieldValue(field: InputField, text: string): unknown {
  if (text.trim() === "") {
    if (field.kind === "string" && text !== "") return text;
    return undefined;
  }
  switch (field.kind) {
    case "string":
      return text;
    case "boolean":
      return text === "true";
    case "enum":
      return JSON.parse(text);
    case "number":
    case "integer": {
      const number = Number(text);
      if (!Number.isFinite(number)) throw new Error(`${field.name}: "${text}" is not a number`);
      if (field.kind === "integer" && !Number.isInteger(number)) throw new Error(`${field.name}: ${text} is not a whole number`);
      return number;
    }
    default:
      try {
        return JSON.parse(text);
      } catch (failure) {
        throw new Error(`${field.name}: not JSON (${(failure as Error).message})`);
      }
  }
}

/** The input's JSON text with one property set (or removed when ``value`` is
 * undefined). Text that is not a JSON object starts from an empty one. */
export function withProperty(json: string, name: string, value: unknown): string {
  let object: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(json || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) object = parsed as Record<string, unknown>;
  } catch {
    // Not JSON yet: the form starts it again.
  }
  const next = { ...object };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return JSON.stringify(next, null, 2);
}

/** The required fields the input lacks. */
export function missingRequired(fields: InputField[], json: string): string[] {
  let object: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(json || "null");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) object = parsed as Record<string, unknown>;
  } catch {
    return [];
  }
  return fields.filter((f) => f.required && object[f.name] === undefined).map((f) => f.name);
}
