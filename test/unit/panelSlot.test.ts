// The Explain, Costs and Architecture panels share one rule (src/webviewHost/panelSlot.ts): one panel
// per view type, shown again rather than opened twice, revived after a reload, forgotten on close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PanelSlot } from '../../src/webviewHost/panelSlot';

class FakePanel {
  reveals = 0;
  reveal(): void {
    this.reveals++;
  }
}

describe('PanelSlot', () => {
  it('makes a panel once, then reveals that same panel', () => {
    const slot = new PanelSlot<FakePanel>();
    let made = 0;
    const create = () => (made++, new FakePanel());
    const first = slot.show(create);
    assert.equal(first.reveals, 0);
    const second = slot.show(create);
    assert.equal(second, first);
    assert.equal(made, 1);
    assert.equal(first.reveals, 1);
    assert.equal(slot.current, first);
  });

  it('a released panel is forgotten, and the next show makes a new one', () => {
    const slot = new PanelSlot<FakePanel>();
    const first = slot.show(() => new FakePanel());
    slot.release(first);
    assert.equal(slot.current, undefined);
    const next = slot.show(() => new FakePanel());
    assert.notEqual(next, first);
    assert.equal(next.reveals, 0);
  });

  it('a revived panel becomes the open one and is shown again by show', () => {
    const slot = new PanelSlot<FakePanel>();
    const revived = slot.adopt(new FakePanel());
    assert.equal(slot.current, revived);
    assert.equal(
      slot.show(() => assert.fail('a second panel was made')),
      revived,
    );
    assert.equal(revived.reveals, 1);
  });

  it('releasing a panel the slot no longer holds leaves the open one', () => {
    const slot = new PanelSlot<FakePanel>();
    const old = slot.adopt(new FakePanel());
    const open = slot.adopt(new FakePanel());
    slot.release(old);
    assert.equal(slot.current, open);
    slot.release(open);
    assert.equal(slot.current, undefined);
  });
});
