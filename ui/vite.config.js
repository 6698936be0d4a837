import { defineConfig } from 'vite';

// The build writes into the Go package that embeds it; base matches the
// path the webserver serves it at.
export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../server/ui/dist',
    emptyOutDir: true,
    target: 'es2020',
    chunkSizeWarningLimit: 1000,
    rollupOptions: {
      output: {
        // The editor is its own chunk: pages without it load less.
        manualChunks: (id) => (id.includes('@codemirror') || id.includes('@lezer') || id.includes('style-mod') || id.includes('crelt') || id.includes('w3c-keyname') ? 'codemirror' : undefined),
      },
    },
  },
});
