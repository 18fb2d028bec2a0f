// The layout of src/ shows the design only if data flows one way: no module imports one that
// (directly or not) imports it, and no folder does either. Root files count as their own parts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from './helpers/chai';
import { REPO } from './helpers/child';

const SRC = path.join(REPO, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.m?ts$/.test(entry.name) ? [full] : [];
  });
}

/** Module id: the path below src/ without extension (`series/counter`). */
function moduleId(file: string): string {
  return path.relative(SRC, file).replace(/\.m?ts$/, '');
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s+['"](\.{1,2}\/[^'"]*)['"]/g)];
  return specifiers.map((m) =>
    path.relative(SRC, path.resolve(path.dirname(file), m[1].replace(/\.m?js$/, ''))),
  );
}

/** A part: the folder below src/, or the file itself for files at the root. */
function partOf(id: string): string {
  return id.includes('/') ? id.slice(0, id.indexOf('/')) : id;
}

/** One cycle of the graph, as a list of nodes, or undefined when it has none. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the layout of src/', () => {
  const files = sources(SRC);
  const modules = new Map(files.map((file) => [moduleId(file), new Set(importsOf(file))]));

  it('every relative import names a module of src/', () => {
    const missing = [...modules].flatMap(([id, deps]) =>
      [...deps].filter((dep) => !modules.has(dep)).map((dep) => `${id} -> ${dep}`),
    );
    expect(missing).to.deep.equal([]);
  });

  it('has no import cycle between modules', () => {
    expect(findCycle(modules)).to.equal(undefined);
  });

  it('has no import cycle between its folders', () => {
    const parts = new Map<string, Set<string>>();
    for (const [id, deps] of modules) {
      const from = partOf(id);
      const edges = parts.get(from) ?? new Set<string>();
      for (const dep of deps) if (partOf(dep) !== from) edges.add(partOf(dep));
      parts.set(from, edges);
    }
    expect(findCycle(parts)).to.equal(undefined);
  });

  it('opens every module with a comment saying what it is for', () => {
    const silent = files
      .filter((file) => !/^\s*(\/\/|\/\*)/.test(readFileSync(file, 'utf8')))
      .map(moduleId);
    expect(silent).to.deep.equal([]);
  });
});
