// The kernel implementations under test: the JS backend, and the native
// backend with each ISA path the CPU supports forced in turn (through the
// addon's setIsa). Tests that use these must be serial: the ISA is process-wide.
import { createRequire } from 'node:module';
import type { TestFn } from 'ava';
import type { NativeBinding, NativeIsa } from '../../src/native-binding.js';

export interface Variant {
  /** 'js', 'native/scalar', 'native/avx2', 'native/avx512f' */
  label: string;
  backend: 'js' | 'native';
  isa?: NativeIsa;
  /** Makes this variant the one ops use (forces the ISA for native). */
  activate(): void;
  /** Undoes activate(). */
  restore(): void;
}

// Worst first, per architecture (a build has the x86 paths or NEON, never both).
const ISA_ORDER: NativeIsa[] = process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512f'];

let addon: NativeBinding | null | undefined;
let addonError = '';

/** The raw addon (build/Release/resnode.node), or null when it is not built or lacks info()/setIsa(). */
export function rawAddon(): NativeBinding | null {
  if (addon !== undefined) return addon;
  try {
    const b = createRequire(import.meta.url)('../../build/Release/resnode.node') as Partial<NativeBinding>;
    if (typeof b.info !== 'function' || typeof b.setIsa !== 'function') {
      addonError = 'build/Release/resnode.node loads but exports no info()/setIsa()';
      addon = null;
    } else {
      addon = b as NativeBinding;
    }
  } catch (err) {
    addonError = `build/Release/resnode.node did not load: ${(err as Error).message.split('\n')[0]}`;
    addon = null;
  }
  return addon;
}

/** Why rawAddon() is null. */
export function addonProblem(): string {
  rawAddon();
  return addonError;
}

/** The ISA paths this CPU can run, worst first (scalar, then avx2, then avx512f). */
export function availableIsas(): NativeIsa[] {
  const b = rawAddon();
  if (!b) return [];
  const detected = b.info().detectedIsa;
  return ISA_ORDER.slice(0, ISA_ORDER.indexOf(detected) + 1);
}

export const jsVariant: Variant = { label: 'js', backend: 'js', activate() {}, restore() {} };

export function nativeVariants(): Variant[] {
  const b = rawAddon();
  if (!b) return [];
  return availableIsas().map((isa) => ({
    label: `native/${isa}`,
    backend: 'native' as const,
    isa,
    activate: () => {
      b.setIsa(isa);
      const now = b.info().isa;
      if (now !== isa) throw new Error(`setIsa('${isa}') left info().isa at '${now}'`);
    },
    restore: () => b.setIsa('auto'),
  }));
}

/**
 * Every variant to test. RESNODE_TEST_BACKENDS=js (or native) narrows the list;
 * RESNODE_TEST_ISAS=avx2,scalar narrows the native ISAs.
 */
export function variants(): Variant[] {
  const only = process.env.RESNODE_TEST_BACKENDS?.split(',').map((s) => s.trim());
  const isas = process.env.RESNODE_TEST_ISAS?.split(',').map((s) => s.trim());
  let all = [jsVariant, ...nativeVariants()];
  if (only) all = all.filter((v) => only.includes(v.backend));
  if (isas) all = all.filter((v) => v.backend === 'js' || isas.includes(v.isa!));
  return all;
}

/**
 * Registers one test that fails when the native addon is missing or
 * incomplete, so that native coverage can never be skipped silently
 * (RESNODE_TEST_BACKENDS=js opts out knowingly).
 */
export function registerNativePresence(test: TestFn): void {
  const only = process.env.RESNODE_TEST_BACKENDS?.split(',').map((s) => s.trim());
  if (only && !only.includes('native')) return;
  test('native addon is built and exposes info()/setIsa() for per-ISA kernel tests', (t) => {
    if (!rawAddon()) t.fail(`${addonProblem()}; run \`npm run build:native\` (or set RESNODE_TEST_BACKENDS=js)`);
    else t.true(availableIsas().includes('scalar'), `info().detectedIsa: ${rawAddon()!.info().detectedIsa}`);
  });
}
