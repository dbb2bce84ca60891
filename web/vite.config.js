// Two pages: the public portal at / (index.html) and the bureau's dashboard at /console/
// (console/index.html). `ecomon serve` serves dist/ (src/api/static_files.h); `npm run dev`
// proxies the API to a running `ecomon serve` on 127.0.0.1:8080.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { resolve } from 'node:path'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

// A gzip copy (NAME.gz) of every text file of the build, which `ecomon serve` sends to browsers
// that accept gzip (api/static_files.h): the portal's 1.1 MB of scripts and shapes travel as ~0.3 MB.
function gzipCopies() {
  const text = /\.(js|css|html|json|svg)$/
  const walk = (dir) =>
    readdirSync(dir).flatMap((n) => {
      const p = resolve(dir, n)
      return statSync(p).isDirectory() ? walk(p) : [p]
    })
  return {
    name: 'ecomon-gzip-copies',
    apply: 'build',
    closeBundle() {
      for (const p of walk(resolve(import.meta.dirname, 'dist'))) {
        if (text.test(p)) writeFileSync(p + '.gz', gzipSync(readFileSync(p), { level: 9 }))
      }
    },
  }
}

export default defineConfig({
  // Element Plus on demand: each <el-…> tag used in a template is imported with its CSS, so the
  // dashboard ships the components it uses, not the whole library.
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }), gzipCopies()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // Stable, readable chunk names: ECharts (+ zrender) and the county shapes change rarely.
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts'
          if (id.includes('/src/geo/')) return 'geo'
          // (Element Plus is left to Rollup: a manual chunk would keep every component, used or not.)
          // Vue and vue-i18n on their own, so the portal does not pull in Element Plus with them.
          if (/node_modules\/(vue|@vue|vue-i18n|@intlify|vue-router)\//.test(id)) return 'vue'
          return undefined
        },
      },
      input: {
        portal: resolve(import.meta.dirname, 'index.html'),
        console: resolve(import.meta.dirname, 'console/index.html'),
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
})
