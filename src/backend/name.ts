// The backends' names: a leaf module, so that the mode table and the op
// interface can both name backends without importing each other.
export const BACKEND_NAMES = ['native', 'js', 'cuda'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
