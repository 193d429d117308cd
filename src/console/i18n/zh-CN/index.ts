// Simplified Chinese, file by file the same keys as en/ (each file's type checks that).
import { admin } from './admin.ts';
import { adminAccess } from './admin-access.ts';
import { adminLifecycle } from './admin-lifecycle.ts';
import { adminNotifications } from './admin-notifications.ts';
import { common } from './common.ts';
import { image } from './image.ts';
import { repositories } from './repositories.ts';
import { settings } from './settings.ts';
import { trust } from './trust.ts';
import type { MessageKey } from '../en/index.ts';

export const zhCN: Record<MessageKey, string> = { ...common, ...repositories, ...image, ...admin, ...adminAccess, ...adminLifecycle, ...adminNotifications, ...settings, ...trust };
