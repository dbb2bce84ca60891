import { createApp } from 'vue'
import { i18n } from '../shared/i18n.js'
import { router } from './router.js'
import App from './App.vue'

// Element Plus components are imported where templates use them (vite.config.js); the locale
// comes from <el-config-provider> in App.vue.
createApp(App).use(i18n).use(router).mount('#app')
