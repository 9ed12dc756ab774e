import type { Edit, EditRequest } from "../../shared/schema/edits.ts";

export function javascriptEdits(_request: EditRequest): Edit[] {
  return [];
}
