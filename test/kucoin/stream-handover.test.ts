import { describe, expect, it } from 'vitest';
import { Handover } from '../../src/kucoin/stream/handover.js';

const push = (seq: number) => ({ topic: '/contract/position:XBTUSDTM', subject: 'position.change', data: { seq } });

describe('make-before-break handover', () => {
  it("drops the new connection's repeats of what the old one delivered, once each", () => {
    const handover = new Handover();
    handover.remember(push(1));
    handover.remember(push(2));
    handover.remember(push(2));
    handover.switch();
    expect(handover.isRepeat(push(1))).toBe(true);
    expect(handover.isRepeat(push(1))).toBe(false);
    expect(handover.isRepeat(push(2))).toBe(true);
    expect(handover.isRepeat(push(2))).toBe(true);
    expect(handover.isRepeat(push(2))).toBe(false);
    expect(handover.isRepeat(push(3))).toBe(false);
  });

  it('remembers nothing after the switch', () => {
    const handover = new Handover();
    handover.switch();
    handover.remember(push(1));
    expect(handover.switched).toBe(true);
    expect(handover.isRepeat(push(1))).toBe(false);
  });

  it('tells pushes apart by topic and subject too', () => {
    const handover = new Handover();
    handover.remember(push(1));
    handover.switch();
    expect(handover.isRepeat({ ...push(1), topic: '/contract/positionAll' })).toBe(false);
    expect(handover.isRepeat({ ...push(1), subject: 'position.settlement' })).toBe(false);
  });
});
