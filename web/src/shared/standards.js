// What the pages draw from the national standards: the AQI level colours (HJ 633 表2, the
// colours every release uses), the water class colours, and the limits drawn on charts.
// The numbers themselves (AQI, classes) always come from the API, which evaluates the standards.

// HJ 633 表2: level → colour (优 green … 严重污染 maroon).
export const AQI_LEVELS = [
  { max: 50, level: 1, zh: '优', en: 'Good', colour: '#00e400' },
  { max: 100, level: 2, zh: '良', en: 'Moderate', colour: '#ffff00' },
  { max: 150, level: 3, zh: '轻度污染', en: 'Lightly polluted', colour: '#ff7e00' },
  { max: 200, level: 4, zh: '中度污染', en: 'Moderately polluted', colour: '#ff0000' },
  { max: 300, level: 5, zh: '重度污染', en: 'Heavily polluted', colour: '#99004c' },
  { max: Infinity, level: 6, zh: '严重污染', en: 'Severely polluted', colour: '#7e0023' },
]

export function aqiLevel(aqi) {
  if (aqi === null || aqi === undefined) return null
  return AQI_LEVELS.find((l) => aqi <= l.max)
}

export function aqiColour(aqi) {
  const l = aqiLevel(aqi)
  return l ? l.colour : '#bbbbbb'
}

// Text colour readable on an AQI colour.
export function aqiTextColour(aqi) {
  const l = aqiLevel(aqi)
  return l && l.level >= 4 ? '#ffffff' : '#222222'
}

// GB 3838-2002 classes as the national water releases colour them.
export const WATER_CLASS_COLOURS = {
  I: '#44c5fd',
  II: '#51a5fd',
  III: '#00e400',
  IV: '#ffff00',
  V: '#ff7e00',
  劣V: '#ff0000',
}

export function waterColour(cls) {
  return WATER_CLASS_COLOURS[cls] || '#bbbbbb'
}

// Limits drawn on a factor's chart (HJ 212 code → [{value, label}]), by the data's interval.
// GB 3095-2012 表1 class 2 (1-h and 24-h means); GB 3838-2002 表1 class III.
const HOURLY = {
  a21026: [{ value: 500, label: 'GB 3095 二级 1小时 500' }],
  a21004: [{ value: 200, label: 'GB 3095 二级 1小时 200' }],
  a21005: [{ value: 10, label: 'GB 3095 二级 1小时 10' }],
  a05024: [{ value: 200, label: 'GB 3095 二级 1小时 200' }],
  a34004: [{ value: 75, label: 'GB 3095 二级 24小时 75' }],
  a34002: [{ value: 150, label: 'GB 3095 二级 24小时 150' }],
}
const DAILY = {
  a21026: [{ value: 150, label: 'GB 3095 二级 24小时 150' }],
  a21004: [{ value: 80, label: 'GB 3095 二级 24小时 80' }],
  a21005: [{ value: 4, label: 'GB 3095 二级 24小时 4' }],
  a05024: [{ value: 160, label: 'GB 3095 二级 日最大8小时 160' }],
  a34004: [{ value: 75, label: 'GB 3095 二级 24小时 75' }],
  a34002: [{ value: 150, label: 'GB 3095 二级 24小时 150' }],
}
const WATER_III = {
  w01009: [{ value: 5, label: 'GB 3838 III类 ≥5' }],
  w01019: [{ value: 6, label: 'GB 3838 III类 6' }],
  w01018: [{ value: 20, label: 'GB 3838 III类 20' }],
  w21003: [{ value: 1.0, label: 'GB 3838 III类 1.0' }],
  w21011: [{ value: 0.2, label: 'GB 3838 III类 0.2 (河流)' }],
  w21001: [{ value: 1.0, label: 'GB 3838 III类 1.0 (湖库)' }],
}

export function limitsFor(factor, interval) {
  if (WATER_III[factor]) return WATER_III[factor]
  return (interval === 'day' ? DAILY : HOURLY)[factor] || []
}

// The AQI items in the order the releases list them, with their HJ 212 codes.
export const AQI_FACTORS = [
  { code: 'a34004', key: 'PM2.5', zh: 'PM₂.₅' },
  { code: 'a34002', key: 'PM10', zh: 'PM₁₀' },
  { code: 'a05024', key: 'O3', zh: 'O₃' },
  { code: 'a21004', key: 'NO2', zh: 'NO₂' },
  { code: 'a21026', key: 'SO2', zh: 'SO₂' },
  { code: 'a21005', key: 'CO', zh: 'CO' },
]
