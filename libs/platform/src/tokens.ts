export const CONFIG = Symbol('PurserConfig');
export const LOGGER = Symbol('PurserLogger');
/** The Clock (@purser/core) of commands and queries; systemClock unless PlatformOptions.clock says otherwise. */
export const CLOCK = Symbol('Clock');
