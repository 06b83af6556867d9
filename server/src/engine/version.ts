// The product's one version, from package.json (esbuild inlines the field): the CLI's --version, the
// language server's serverInfo, and the tool_version of every lock and run-history row.
import { version } from '../../../package.json';

export const toolVersion: string = version;
