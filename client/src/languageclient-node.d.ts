// vscode-languageclient 11 exposes its entry points only through package.json "exports", which this
// project's `moduleResolution: node` does not read (Node and esbuild do). These point tsc at the same files.
// (server/src/lsp/languageserver-node.d.ts does the same for the protocol and jsonrpc packages.)
declare module 'vscode-languageclient/node' {
  export * from 'vscode-languageclient/lib/node/main';
}
declare module 'vscode-languageclient' {
  export * from 'vscode-languageclient/lib/common/api';
}
