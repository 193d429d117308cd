// The reference catalogue: one file per area of the console, so that pages can be added without
// touching each other's strings.
import { admin } from './admin.ts';
import { adminAccess } from './admin-access.ts';
import { adminLifecycle } from './admin-lifecycle.ts';
import { adminNotifications } from './admin-notifications.ts';
import { common } from './common.ts';
import { image } from './image.ts';
import { repositories } from './repositories.ts';
import { settings } from './settings.ts';
import { trust } from './trust.ts';

export const en = { ...common, ...repositories, ...image, ...admin, ...adminAccess, ...adminLifecycle, ...adminNotifications, ...settings, ...trust };
export type MessageKey = keyof typeof en;
