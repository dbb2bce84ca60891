import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import { i18n } from '../shared/i18n.js'
import { router } from './router.js'
import App from './App.vue'

createApp(App).use(ElementPlus, { locale: zhCn }).use(i18n).use(router).mount('#app')
