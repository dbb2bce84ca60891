// ECharts, with only the parts the pages draw (tree-shaken), and the county map of Guangyuan
// registered once under the name 'guangyuan' (src/geo/README.md: source and terms).
import * as echarts from 'echarts/core'
import { LineChart, BarChart, ScatterChart, MapChart } from 'echarts/charts'
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkLineComponent,
  MarkAreaComponent,
  GeoComponent,
  DataZoomComponent,
  BrushComponent,
  ToolboxComponent,
  TitleComponent,
  VisualMapComponent,
} from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'
import counties from '../geo/guangyuan_counties.json'

echarts.use([
  LineChart,
  BarChart,
  ScatterChart,
  MapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkLineComponent,
  MarkAreaComponent,
  GeoComponent,
  DataZoomComponent,
  BrushComponent,
  ToolboxComponent,
  TitleComponent,
  VisualMapComponent,
  CanvasRenderer,
])
echarts.registerMap('guangyuan', counties)

export const countyNames = counties.features.map((f) => f.properties.name)
export { echarts }
