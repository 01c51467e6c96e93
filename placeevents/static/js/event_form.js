// The event form: a field marked data-shown-for-format shows only while one of the formats it
// names is chosen (capacity: in-person and hybrid events; online places: online and hybrid).
// A hidden field is disabled too, so a number typed before the format changed is not sent.
// Without this file every field shows, and its hint says when it applies.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-shown-for-format]").forEach((input) => {
    const form = input.form;
    const wrapper = input.closest(".field") || input;
    const formats = input.getAttribute("data-shown-for-format").split(" ");
    const radios = form ? form.querySelectorAll('input[name="format"]') : [];
    const update = () => {
      const chosen = Array.from(radios).find((radio) => radio.checked);
      wrapper.hidden = chosen !== undefined && !formats.includes(chosen.value);
      input.disabled = wrapper.hidden;
    };
    radios.forEach((radio) => radio.addEventListener("change", update));
    update();
  });
});
