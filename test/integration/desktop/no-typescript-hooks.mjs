// Module hooks for no-typescript.mjs: refuse tsx and TypeScript sources, name who asked for them.
export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) {
    throw new Error(`no TypeScript at run time: ${context.parentURL ?? 'the entry'} imports '${specifier}'`);
  }
  const resolved = await next(specifier, context);
  if (/\.[cm]?ts$/.test(new URL(resolved.url).pathname)) {
    throw new Error(`no TypeScript at run time: ${context.parentURL ?? 'the entry'} loads ${resolved.url}`);
  }
  return resolved;
}
