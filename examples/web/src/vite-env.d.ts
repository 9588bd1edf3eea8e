/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** cairn's /graphql when the app is not served through the Vite proxy. */
  readonly VITE_CAIRN_URL?: string;
  /** A Bearer token for a cairn with access control on. */
  readonly VITE_CAIRN_TOKEN?: string;
}
