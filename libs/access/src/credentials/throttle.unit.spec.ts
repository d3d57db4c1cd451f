import { SignInThrottle } from './throttle';

describe('sign-in slow-down', () => {
  const t0 = 1_000_000;

  it('given no failures, then no delay; given failures from an address, then each doubles the wait, up to 3 s', () => {
    const throttle = new SignInThrottle();
    expect(throttle.delayFor(0, '10.0.0.1', t0)).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      throttle.failed('10.0.0.1', t0);
      waits.push(throttle.delayFor(0, '10.0.0.1', t0));
    }
    expect(waits).toEqual([100, 200, 400, 800, 1600, 3000, 3000, 3000]);
    expect(throttle.delayFor(0, '10.0.0.2', t0)).toBe(0);
  });

  it("given an account's failures, then the wait follows the larger of the account's and the address's count", () => {
    const throttle = new SignInThrottle();
    throttle.failed('10.0.0.1', t0);
    expect(throttle.delayFor(4, '10.0.0.1', t0)).toBe(800);
    expect(throttle.delayFor(0, '10.0.0.1', t0)).toBe(100);
  });

  it('given a success or a quiet window, then the address starts again from nothing', () => {
    const throttle = new SignInThrottle();
    for (let i = 0; i < 3; i++) throttle.failed('10.0.0.1', t0);
    expect(throttle.delayFor(0, '10.0.0.1', t0 + SignInThrottle.WINDOW_MS)).toBe(0);
    throttle.succeeded('10.0.0.1');
    expect(throttle.delayFor(0, '10.0.0.1', t0)).toBe(0);
  });
});
