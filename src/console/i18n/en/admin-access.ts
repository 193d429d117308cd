export const adminAccess = {
} as const;
