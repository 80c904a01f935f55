/** A caller of the simulator's /sim control API (src/simulator/rest/control.ts) at `baseUrl`. */
export function simControlAt(baseUrl: () => string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`sim control ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
}
