/**
 * A small accumulator for an ONNX graph (nodes, initializers, inputs, outputs) over the generated protobuf
 * classes of `onnx-proto`, so the converter never touches wire-format details. Everything is float32 except
 * the int64 shape/pad/index constants a few operators take as inputs since opset 13.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

/**
 * Opset 13: every operator the converter emits has its current semantics there (Softmax on one axis, Pad and
 * Clip with their bounds as inputs), and every ONNX Runtime since 1.6 runs it. IR version 7 is the one that
 * goes with opset 13 (ONNX 1.8).
 */
export const OPSET = 13;
export const IR_VERSION = 7;

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** A dimension: a fixed size or a symbolic name (the batch). */
export type Dim = number | string;

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();

  /** A graph-unique name derived from `base` (ONNX requires unique value and node names). */
  unique(base: string): string {
    const clean = base.length > 0 ? base : 'v';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}__${i}`;
    this.used.add(name);
    return name;
  }

  addInput(name: string, dims: Dim[]): void {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
  }

  addOutput(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 initializer; returns its (unique) name. */
  floats(base: string, dims: number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new Error(`initializer ${base}: ${data.length} values for shape [${dims.join(', ')}]`);
    }
    const name = this.unique(base);
    // rawData is little-endian float32, which is what Float32Array holds on every platform Node runs on.
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw.slice() }),
    );
    return name;
  }

  /** An int64 initializer (shapes, pads, indices). */
  int64s(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }),
    );
    return name;
  }

  /** Adds a node; returns the name of its (first) output, created from `outName` unless given exactly. */
  node(opType: string, inputs: string[], outName: string, attrs: Record<string, AttrValue> = {}, exactOut = false): string {
    const out = exactOut ? outName : this.unique(outName);
    if (exactOut) this.used.add(out);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: [out],
        name: this.unique(`${out}/${opType}`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return out;
  }

  /**
   * The elementwise `op` (Add or Max) of any number of inputs as a balanced tree of pairs: ONNX Runtime
   * runs the variadic Sum and Max of four inputs ~1.7–2× slower than three binary nodes. One input is
   * returned as it is.
   */
  tree(op: 'Add' | 'Max', inputs: readonly string[], outName: string): string {
    if (inputs.length === 0) throw new Error(`internal: ${outName}: ${op} of nothing`);
    let level = [...inputs];
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(this.node(op, [level[i] ?? '', level[i + 1] ?? ''], level.length === 2 ? outName : `${outName}_${op.toLowerCase()}`));
      if (level.length % 2 === 1) next.push(level[level.length - 1] ?? '');
      level = next;
    }
    return level[0] ?? '';
  }

  /** A node with several outputs (MaxPool with indices); returns their unique names in order. */
  nodeOutputs(opType: string, inputs: string[], outNames: string[], attrs: Record<string, AttrValue> = {}): string[] {
    const outs = outNames.map((n) => this.unique(n));
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: outs,
        name: this.unique(`${outs[0] ?? 'v'}/${opType}`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  /**
   * Drops the nodes no graph output depends on, and the initializers nothing then reads: ONNX Runtime runs
   * every node of a graph, used or not. Returns how many nodes went.
   */
  dropUnused(): number {
    const live = new Set(this.outputs.map((o) => o.name ?? ''));
    const keep = new Array<boolean>(this.nodes.length).fill(false);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n || !(n.output ?? []).some((o) => live.has(o))) continue;
      keep[i] = true;
      for (const x of n.input ?? []) live.add(x);
    }
    const before = this.nodes.length;
    const kept = this.nodes.filter((_, i) => keep[i]);
    this.nodes.splice(0, this.nodes.length, ...kept);
    const inits = this.initializers.filter((t) => live.has(t.name ?? ''));
    this.initializers.splice(0, this.initializers.length, ...inits);
    return before - kept.length;
  }

  /** `opset`: OPSET unless a graph needs a later operator version (the training graphs' ScatterElements add). */
  model(graphName: string, docString: string, metadata: Record<string, string>, opset = OPSET): ModelProto {
    const graph = onnx.GraphProto.create({
      name: graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    return onnx.ModelProto.create({
      irVersion: opset > OPSET ? 8 : IR_VERSION,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opset })],
      producerName: 'mask-studio',
      producerVersion: '0.1.0',
      docString,
      graph,
      metadataProps: Object.entries(metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    });
  }

  get nodeCount(): number {
    return this.nodes.length;
  }
}

function valueInfo(name: string, dims: Dim[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass { float: ${v} }`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
