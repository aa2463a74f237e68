// The layers of src/ point one way: a walk over every import (type-only ones
// included, as a newcomer's tool that draws the graph would count them) finds
// no cycle, and the IR (src/graph/graph.ts and its shape inference) imports
// nothing from onnx/, backend/ or the native binding.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every relative import, re-export, side-effect or dynamic import of a file, resolved to a .ts path. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gms), // import … from, export … from
    ...text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm), // side-effect imports
    ...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g), // dynamic imports
  ].map((m) => m[1]!);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** One cycle of the graph as a list of files, or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      const c = visit(g);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of graph.keys()) {
    const c = visit(f);
    if (c) return c;
  }
  return null;
}

const graph = new Map(sources(SRC).map((f) => [f, importsOf(f)]));

test('the import graph of src/ has no cycle', (t) => {
  t.true(graph.size > 50, `only ${graph.size} files found under src/`);
  t.true([...graph.values()].flat().length > 100, 'the import scanner found almost no imports');
  const cycle = findCycle(graph);
  t.is(cycle, null, cycle ? `cycle: ${cycle.map((f) => relative(SRC, f)).join(' → ')}` : '');
});

test('the scanner sees every kind of import', (t) => {
  const layers = graph.get(join(SRC, 'graph/layers.ts'))!;
  t.true(layers.includes(join(SRC, 'onnx/export.ts')), 'side-effect import');
  t.true(layers.includes(join(SRC, 'graph/graph.ts')), 'import … from');
});

test('the cycle finder finds a cycle when there is one (and none in a chain)', (t) => {
  t.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  t.is(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), null);
});

test('the IR imports nothing from onnx/, backend/ or the native binding', (t) => {
  const ir = ['graph/graph.ts', 'shapes.ts'].map((f) => join(SRC, f));
  const forbidden = (f: string) => /[/\\](onnx|backend)[/\\]/.test(f) || /native(-binding)?\.ts$/.test(f);
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    t.false(forbidden(f), `${relative(SRC, f)} is reached from the IR`);
    for (const g of graph.get(f) ?? []) walk(g);
  };
  for (const f of ir) walk(f);
  t.true(seen.size >= 2);
});
