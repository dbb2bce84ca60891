// The people of the browser tests (created by global-setup.ts with `ecomon user add`).
export const USERS = {
  analyst: { name: 'e2e-analyst', role: 'analyst', password: 'Analyst#Guangyuan2026' },
  viewer: { name: 'e2e-viewer', role: 'viewer', password: 'Viewer#Guangyuan2026' },
  reviewer: { name: 'e2e-reviewer', role: 'reviewer', password: 'Reviewer#Guangyuan2026' },
  operator: { name: 'e2e-operator', role: 'operator', password: 'Operator#Guangyuan2026' },
}
