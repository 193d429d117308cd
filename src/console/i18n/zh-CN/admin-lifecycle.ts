import type { adminLifecycle as en } from '../en/admin-lifecycle.ts';

export const adminLifecycle: Record<keyof typeof en, string> = {
};
