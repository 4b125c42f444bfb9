import { NotFoundError } from "../errors.js";
import { checkPositiveInt, checkText } from "../validation.js";
import type { OperationRecord, OperationState, OperationStore } from "../../ports/operations.js";

/** Reading the writes this gateway accepted. */
export class OperationQueries {
  constructor(private readonly store: OperationStore) {}

  get(id: string): OperationRecord {
    checkText("id", id, { required: true });
    const op = this.store.findOperation(id);
    if (!op) throw new NotFoundError(`operation ${id} not found`);
    return op;
  }

  list(state: OperationState | undefined, limit: number): OperationRecord[] {
    const n = checkPositiveInt("limit", limit, 1000);
    return this.store.listOperations({ state, limit: n === 0 ? 100 : n });
  }
}
