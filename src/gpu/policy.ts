// Adapter policy, in one place: which adapters count as CPUs (where the variants measured on
// lavapipe are the heuristics' choice) and when the subgroup kernels may run. Ops ask here
// instead of sniffing adapter strings themselves. Browser-safe.
import type { Gpu } from './device.js';

/** A software (CPU) adapter by its reported strings: lavapipe/llvmpipe, SwiftShader, WARP. */
export const isCpuAdapter = (info: { architecture: string; device: string; description: string; vendor?: string }): boolean =>
  /software|cpu|llvmpipe|lavapipe|swiftshader|microsoft basic render/i.test(`${info.vendor ?? ''} ${info.architecture} ${info.device} ${info.description}`);

/**
 * Whether `GPUAdapter.info` describes a CPU adapter: the browser's `isFallbackAdapter` flag (Chromium
 * sets it on SwiftShader; browsers may blank the other strings), else the strings (isCpuAdapter).
 * Headless Chromium 156's SwiftShader reports vendor 'google', architecture 'swiftshader', device and
 * description '' and isFallbackAdapter true; Dawn's lavapipe names llvmpipe in its device string.
 */
export const adapterInfoIsCpu = (info: Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>> & { isFallbackAdapter?: boolean }): boolean =>
  !!info.isFallbackAdapter || isCpuAdapter({ vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' });

/**
 * Subgroup kernels that broadcast from lanes 0..7 need the feature and subgroups of at least 8
 * lanes on every dispatch (subgroupMinSize ≥ 8). An adapter that does not report its sizes is
 * not trusted with them.
 */
export const subgroupsOf8 = (gpu: Pick<Gpu, 'subgroups' | 'subgroupMinSize'>): boolean => gpu.subgroups && gpu.subgroupMinSize >= 8;

/**
 * Whether a heuristic may choose a variant tuned on a CPU adapter (the subgroup GEMM, attention's
 * rows kernel, norm's one row per invocation, rope's scalar layout). Never on a GPU, whatever the
 * shape: there only the tuner may pick such a variant, after timing it.
 */
export const cpuTunedVariantsOk = (gpu: Pick<Gpu, 'isCpu'>): boolean => gpu.isCpu;
