import type { adminAccess as en } from '../en/admin-access.ts';

export const adminAccess: Record<keyof typeof en, string> = {
};
