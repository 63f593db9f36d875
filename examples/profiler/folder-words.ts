// The page's one line for a model folder that did not load (no GPU, no DOM: unit-tested in Node): the library's
// PipelineError for a folder without model_index.json, reworded for someone with a URL box or a folder picker
// instead of a script ("give the URL of …" / "pick …", never "load it with loadModel").

/** How the folder was chosen: a URL typed or passed as ?model=, or a folder picked from disk. */
export type FolderChoiceKind = 'url' | 'picked';

/**
 * `message` (loadPipeline's error) in the page's words. Two library messages are reworded (src/pipeline/pipeline.ts
 * readModelIndex): a component folder (`…/model_index.json: missing: ROOT is a VAE folder (…), a pipeline's vae/
 * component; give the pipeline folder that holds it, PARENT (or load this component alone with loadVae)`) points at
 * the folder above; a folder with no model_index.json and no component config says which folder to give. Any other
 * message is returned as it is.
 */
export function folderWords(message: string, kind: FolderChoiceKind): string {
  const give = `${kind === 'url' ? 'give the URL of' : 'pick'} the folder that holds model_index.json (a diffusers WanPipeline or LattePipeline folder)`;
  const component = /^(\S*model_index\.json): missing: (.*?); give the pipeline folder that holds it, (\S+) \(or load this component alone with \w+\)$/.exec(message);
  if (component) {
    const above = kind === 'url' ? `give the URL of the pipeline folder above it, ${component[3]}/` : 'pick the pipeline folder above it';
    return `no model_index.json there: ${component[2]}; ${above}`;
  }
  const missing = /^(\S*model_index\.json): (.*?) \(a diffusers pipeline folder names its components there(?:; for a single transformer folder use loadModel)?\)$/.exec(message);
  return missing ? `no model_index.json there (${missing[1]}: ${missing[2]}); ${give}` : message;
}
