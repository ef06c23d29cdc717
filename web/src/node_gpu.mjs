// navigator.gpu for Node: the npm package `webgpu` (Dawn). Without a hardware GPU, Dawn runs on
// a Vulkan software driver; Debian's chromium package ships SwiftShader and a Vulkan loader
// (set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and
// LD_LIBRARY_PATH=/usr/lib/chromium before starting node; see swiftshaderEnv()).

let gpuInstance = null;

// Resolves to a GPU object (navigator.gpu equivalent), or null when the package or its native
// module cannot be loaded.
export async function nodeGpu(flags = []) {
  if (gpuInstance) return gpuInstance;
  if (globalThis.navigator?.gpu) return globalThis.navigator.gpu;
  let mod;
  try {
    mod = await import('webgpu');
  } catch {
    return null;
  }
  Object.assign(globalThis, mod.globals);
  gpuInstance = mod.create(flags);
  return gpuInstance;
}

// Lets Node exit: Dawn keeps the process alive while the GPU object is referenced.
export function releaseNodeGpu() {
  gpuInstance = null;
}

// Environment for a child process that should find SwiftShader (Debian's chromium package).
export function swiftshaderEnv(env = process.env) {
  const dir = '/usr/lib/chromium';
  return {
    ...env,
    VK_ICD_FILENAMES: env.VK_ICD_FILENAMES ?? `${dir}/vk_swiftshader_icd.json`,
    LD_LIBRARY_PATH: env.LD_LIBRARY_PATH ? `${env.LD_LIBRARY_PATH}:${dir}` : dir,
  };
}
