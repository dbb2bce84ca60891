import { createApp } from 'vue'
import { i18n } from '../shared/i18n.js'
import Portal from './Portal.vue'

createApp(Portal).use(i18n).mount('#app')
