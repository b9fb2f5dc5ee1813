/**
 * A small typed event emitter: listeners are checked against an event map,
 * and `emit` returns what the listeners returned (a re-INVITE listener
 * returns the answer SDP).
 */

type Listener = (...args: never[]) => unknown;

export class TypedEmitter<E extends { [K in keyof E]: Listener }> {
  private readonly listeners = new Map<keyof E, Array<E[keyof E]>>();

  on<K extends keyof E>(event: K, fn: E[K]): this {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return this;
  }

  once<K extends keyof E>(event: K, fn: E[K]): this {
    const wrapper = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapper);
      return (fn as unknown as (...a: Parameters<E[K]>) => unknown)(...args);
    }) as unknown as E[K];
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, fn: E[K]): this {
    const list = this.listeners.get(event);
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): Array<ReturnType<E[K]>> {
    const list = (this.listeners.get(event) ?? []).slice();
    return list.map((fn) => (fn as unknown as (...a: Parameters<E[K]>) => ReturnType<E[K]>)(...args));
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }
}
