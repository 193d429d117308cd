export const admin = {
  'admin.title': 'Administration',
} as const;
