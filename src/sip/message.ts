/**
 * The SIP message model (RFC 3261 §7). Parsing lives in `parser.ts`,
 * serialization in `serializer.ts`, URIs in `uri.ts`, structured header
 * values (Via, name-addr, CSeq, params) in `header-values.ts`.
 *
 * Header names are stored canonical: lower case, long form (compact forms
 * such as `v`, `f`, `i` are expanded by the parser, RFC 3261 §7.3.3).
 * A header that appears several times, or carries a comma-separated list,
 * is stored as several entries in order (RFC 3261 §7.3.1).
 */

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  /** User part, %-unescaped. */
  user?: string;
  password?: string;
  /** Host name or address; an IPv6 reference without the brackets. */
  host: string;
  port?: number;
  /** URI parameters (`;transport=udp;lr`), keys in lower case, null for a flag. */
  params: Map<string, string | null>;
  /** URI headers (`?Subject=x`), %-unescaped. */
  headers: Map<string, string>;
}

/** `"Display" <sip:user@host>;tag=x` (RFC 3261 §20.10, §25.1 name-addr / addr-spec). */
export interface NameAddr {
  display?: string;
  uri: SipUri;
  params: Map<string, string | null>;
}

/** One Via value (RFC 3261 §20.42). */
export interface Via {
  /** `UDP`, `TCP`, ... upper case. */
  transport: string;
  host: string;
  port?: number;
  /** branch, received, rport (null when present without value), maddr, ttl... */
  params: Map<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

export class Headers {
  private readonly list: Array<[string, string]> = [];

  static canonical(name: string): string {
    return name.trim().toLowerCase();
  }

  /** First value of a header, or undefined. */
  get(name: string): string | undefined {
    const n = Headers.canonical(name);
    for (const [k, v] of this.list) if (k === n) return v;
    return undefined;
  }

  /** All values of a header, in order. */
  getAll(name: string): string[] {
    const n = Headers.canonical(name);
    const out: string[] = [];
    for (const [k, v] of this.list) if (k === n) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replace every value of `name` by one value (appended at the position of the first old one, or at the end). */
  set(name: string, value: string): this {
    const n = Headers.canonical(name);
    const i = this.list.findIndex(([k]) => k === n);
    this.remove(n);
    if (i >= 0 && i <= this.list.length) this.list.splice(i, 0, [n, value]);
    else this.list.push([n, value]);
    return this;
  }

  append(name: string, value: string): this {
    this.list.push([Headers.canonical(name), value]);
    return this;
  }

  /** Insert before the first value of the same header (a proxy's Via goes on top). */
  prepend(name: string, value: string): this {
    const n = Headers.canonical(name);
    const i = this.list.findIndex(([k]) => k === n);
    if (i >= 0) this.list.splice(i, 0, [n, value]);
    else this.list.push([n, value]);
    return this;
  }

  remove(name: string): this {
    const n = Headers.canonical(name);
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i][0] === n) this.list.splice(i, 1);
    return this;
  }

  entries(): ReadonlyArray<readonly [string, string]> {
    return this.list;
  }

  clone(): Headers {
    const h = new Headers();
    for (const [k, v] of this.list) h.list.push([k, v]);
    return h;
  }
}

export interface SipRequest {
  type: 'request';
  method: string;
  uri: SipUri;
  headers: Headers;
  body: Buffer;
}

export interface SipResponse {
  type: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** Where a message came from or goes to (UDP). */
export interface Endpoint {
  address: string;
  port: number;
}
