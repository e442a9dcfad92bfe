// The one time format for people lives in plugin-kit, so providers' messages use it too.
export { localTime } from '@latchkey/plugin-kit';
