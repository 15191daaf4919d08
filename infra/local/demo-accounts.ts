import type { DemoAccount } from './emulators/cognito-local';

/**
 * One demo account per role (local runtime only). The password is for the local emulator's demo
 * users and nothing else; set MDRP_DEMO_PASSWORD to choose another.
 */
export function demoAccounts(password: string): DemoAccount[] {
  const h1 = 'demo-hospital-1';
  const h2 = 'demo-hospital-2';
  return [
    { role: 'researcher', username: 'researcher', displayName: '王敏 Wang Min', institution: h1, password },
    { role: 'data-manager', username: 'data-manager', displayName: '陈静 Chen Jing', institution: h1, password },
    { role: 'data-provider', username: 'data-provider', displayName: '刘洋 Liu Yang', institution: h2, password },
    { role: 'reviewer', username: 'reviewer', displayName: '赵磊 Zhao Lei', institution: h1, password },
    { role: 'ethics-reviewer', username: 'ethics-reviewer', displayName: '孙丽 Sun Li', institution: h1, password },
    { role: 'approver', username: 'approver', displayName: '周强 Zhou Qiang', institution: h1, password },
    { role: 'data-owner', username: 'data-owner', displayName: '何芳 He Fang', institution: h2, password },
    { role: 'security-admin', username: 'security-admin', displayName: '吴刚 Wu Gang', institution: h1, password },
    { role: 'auditor', username: 'auditor', displayName: '郑华 Zheng Hua', institution: h1, password },
  ];
}

/** Default password of the local demo accounts (printed by `npm start`). */
export const DEFAULT_DEMO_PASSWORD = 'Mdrp-Demo-2026!';
