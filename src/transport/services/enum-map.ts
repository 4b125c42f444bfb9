/**
 * A domain word ↔ proto enum mapping, both ways. Unknown and UNSPECIFIED (0) numbers map to
 * undefined, which the domain reads as "no filter".
 */
export function enumMap<W extends string, E extends number>(toProto: Record<W, E>) {
  const fromProto = new Map<number, W>(Object.entries(toProto).map(([word, n]) => [n as number, word as W]));
  return {
    toProto: (word: W): E => toProto[word],
    fromProto: (n: number): W | undefined => fromProto.get(n),
  };
}
