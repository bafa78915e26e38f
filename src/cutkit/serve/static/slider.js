// The before/after comparison: the original photo under the cutout, the cutout clipped at a divider that
// can be dragged with a pointer or moved with the keyboard (it is an ARIA slider, so screen readers
// announce it as one).

const KEY_STEPS = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -25, PageUp: 25 };

/**
 * Make `box` (holding .before, .after and .divider) a comparison slider.
 * @param {HTMLElement} box the .compare element.
 * @param {string} label the accessible name of the divider.
 */
export function initCompare(box, label) {
  const divider = box.querySelector(".divider");
  divider.setAttribute("aria-label", label);
  const set = (percent) => setPosition(box, divider, percent);

  divider.addEventListener("keydown", (event) => {
    const now = Number(divider.getAttribute("aria-valuenow"));
    let next = null;
    if (event.key in KEY_STEPS) next = now + KEY_STEPS[event.key];
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = 100;
    if (next === null) return;
    event.preventDefault();
    set(next);
  });

  // Dragging anywhere on the picture moves the divider there: a thin handle is hard to hit on a phone.
  box.addEventListener("pointerdown", (event) => {
    box.setPointerCapture(event.pointerId);
    set(percentAt(box, event.clientX));
    divider.focus({ preventScroll: true });
  });
  box.addEventListener("pointermove", (event) => {
    if (box.hasPointerCapture(event.pointerId)) set(percentAt(box, event.clientX));
  });
  set(50);
}

function percentAt(box, clientX) {
  const rect = box.getBoundingClientRect();
  return rect.width > 0 ? ((clientX - rect.left) / rect.width) * 100 : 50;
}

// Left of the divider shows the original, right of it the cutout.
function setPosition(box, divider, percent) {
  const p = Math.round(Math.min(100, Math.max(0, percent)));
  box.style.setProperty("--split", `${p}%`);
  divider.setAttribute("aria-valuenow", String(p));
  divider.setAttribute("aria-valuetext", `${p}% original, ${100 - p}% cutout`);
}
