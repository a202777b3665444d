// Whether the worker takes new inference work. Shared by the RPC handlers,
// the health endpoints and the drain logic; listeners let grpc.health.v1
// Watch streams report the change.
import { EventEmitter } from "node:events";

export class ServingState extends EventEmitter<{ change: [] }> {
  private draining = false;

  get ready(): boolean {
    return !this.draining;
  }

  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    this.emit("change");
  }
}
