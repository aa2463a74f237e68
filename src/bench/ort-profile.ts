// Per-node kernel time from an ONNX Runtime profile (Chrome trace JSON).
interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/**
 * Node name → median milliseconds per run. ORT names kernel events "<node>_kernel_time";
 * a node it fused (conv + bn + relu) takes the name of the last node it absorbed,
 * with "_nchwc" appended when it was moved to the blocked layout (the ORT in
 * node_modules names such a node after its output value instead), and a QDQ
 * group it fused into one int8 node (QLinearConv, QGemm) "<node>_token_<n>".
 */
export function ortLayerTimes(events: TraceEvent[]): Map<string, number> {
  const samples = new Map<string, number[]>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.dur === undefined) continue;
    const node = e.name.slice(0, -'_kernel_time'.length).replace(/_nchwc$/, '').replace(/_token_\d+$/, '');
    (samples.get(node) ?? samples.set(node, []).get(node)!).push(e.dur / 1000);
  }
  // The median over the profiled runs, so the first (cold) run does not count.
  const times = new Map<string, number>();
  for (const [k, v] of samples) times.set(k, [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!);
  return times;
}

type OnnxGraphLike = { graph?: { node?: { name?: string; input?: string[]; output?: string[] }[] } };

/**
 * ORT's time for the layer of ours named `name` that produces `value` in the original ONNX model.
 * A fused node is named after one of the nodes it absorbed, so walk back along the first input
 * (relu ← add ← bn ← conv) until a node has a time. Where our layer fused nodes that ORT runs
 * apart (an int8 conv with its residual QLinearAdd: ORT runs a QLinearConv, named after the conv,
 * and a QLinearAdd, named after the add), the walk from the add's output finds the add only; the
 * conv our layer is named after then has a time of its own in ORT, and the layer's ORT time is both.
 */
export function ortTimeFor(model: OnnxGraphLike, times: Map<string, number>): (value: string, name?: string) => number | undefined {
  const producer = new Map<string, { name: string; input?: string }>();
  for (const n of model.graph?.node ?? []) for (const o of n.output ?? []) if (n.name) producer.set(o, { name: n.name, input: n.input?.[0] });
  const walk = (value: string): { node: string; ms: number } | undefined => {
    let v: string | undefined = value;
    for (let step = 0; step < 4 && v !== undefined; step++) {
      const p = producer.get(v);
      if (!p) return undefined;
      // Newer ORT names a node moved to NCHWc after its output value instead.
      const t = times.get(p.name) ?? times.get(v);
      if (t !== undefined) return { node: times.has(p.name) ? p.name : v, ms: t };
      v = p.input;
    }
    return undefined;
  };
  return (value, name) => {
    const found = walk(value);
    const own = name !== undefined && name !== found?.node ? times.get(name) : undefined;
    if (found === undefined) return own;
    return own === undefined ? found.ms : found.ms + own;
  };
}
