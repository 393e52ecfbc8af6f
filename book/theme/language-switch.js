// The language switch in the menu bar: a link to the same page (and section) in the other
// edition. The English edition is the site's root, the Chinese one its zh-CN/ folder
// (`just book zh` builds them so; `just serve zh` serves them so).
(function () {
    const buttons = document.querySelector("#mdbook-menu-bar .right-buttons");
    if (!buttons || typeof path_to_root === "undefined") {
        return;
    }
    const root = new URL(path_to_root || "./", location.href);
    let page = location.pathname.slice(root.pathname.length);
    if (page === "") {
        page = "index.html";
    }
    const chinese = document.documentElement.lang.toLowerCase().startsWith("zh");
    const target = new URL((chinese ? "../" : "zh-CN/") + page, root);
    target.hash = location.hash;

    const link = document.createElement("a");
    link.id = "language-switch";
    link.href = target.href;
    link.hreflang = chinese ? "en" : "zh-CN";
    link.lang = link.hreflang;
    link.textContent = chinese ? "English" : "中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("aria-label", link.title);
    // Keep the section when the reader scrolls or follows an in-page link after loading.
    window.addEventListener("hashchange", () => {
        target.hash = location.hash;
        link.href = target.href;
    });
    buttons.prepend(link);
})();
