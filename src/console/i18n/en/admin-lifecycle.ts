export const adminLifecycle = {
} as const;
