export const CONFIG = Symbol('PurserConfig');
export const LOGGER = Symbol('PurserLogger');
