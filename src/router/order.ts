/**
 * The order a request tries targets in: ascending rank; within one rank, a weighted random order
 * (each next pick proportional to weight among those left), which balances load by weight.
 */
export function orderByRank<T extends { settings: { rank: number; weight: number } }>(
  targets: readonly T[],
  random: () => number = Math.random,
): T[] {
  const ranks = [...new Set(targets.map((t) => t.settings.rank))].sort((a, b) => a - b);
  const out: T[] = [];
  for (const rank of ranks) {
    const group = targets.filter((t) => t.settings.rank === rank);
    while (group.length > 0) {
      const total = group.reduce((sum, t) => sum + t.settings.weight, 0);
      let roll = random() * total;
      let pick = group.length - 1;
      for (let i = 0; i < group.length; i++) {
        roll -= group[i]!.settings.weight;
        if (roll < 0) {
          pick = i;
          break;
        }
      }
      out.push(...group.splice(pick, 1));
    }
  }
  return out;
}
