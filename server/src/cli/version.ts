// The CLI's --version: the engine's one version (package.json).
export { toolVersion as version } from '../engine/version';
