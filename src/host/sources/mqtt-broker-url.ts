/**
 * A broker URL as status, logs and the pushed records show it: without a user name and password
 * written into it (`mqtt://user:secret@host`), which MQTT.js would send in CONNECT.
 */
export function shownBrokerUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
