/**
 * What a dialled number asks of the appliance (DESIGN.md "CFU by phone"):
 *   <XMLnumber>           an emergency call (the waiting queue)
 *   <XMLnumber>*21        put the caller's own extension in charge
 *   <XMLnumber>*21*<ext>  put <ext> in charge
 *   <XMLnumber>#21        clear the CFU (back to First.txt)
 * The codes follow the usual *21 / #21 call-forward-unconditional convention.
 */
export type Dialled =
  | { kind: 'emergency' }
  | { kind: 'cfu-set'; ext?: string }
  | { kind: 'cfu-clear' };

export function parseDialled(user: string, xmlNumber: string): Dialled | undefined {
  // Phones send '#' escaped (%23) in the URI user part; the parser unescapes it.
  const u = user.trim();
  if (!u.startsWith(xmlNumber)) return undefined;
  const rest = u.slice(xmlNumber.length);
  if (rest === '') return { kind: 'emergency' };
  if (rest === '#21' || rest === '#21#') return { kind: 'cfu-clear' };
  if (rest === '*21' || rest === '*21#') return { kind: 'cfu-set' };
  const m = /^\*21\*([0-9]{1,16})#?$/.exec(rest);
  if (m) return { kind: 'cfu-set', ext: m[1] };
  return undefined;
}
