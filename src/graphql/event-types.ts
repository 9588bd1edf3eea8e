/** Event types with a GraphQL type of their own (registered by `eventType`). */
const typed = new Set<string>();

export const registerTypedEvent = (type: string): void => {
  typed.add(type);
};

export const isTypedEvent = (type: string): boolean => typed.has(type);
