try{Object.defineProperty(Navigator.prototype,"language",{get:function(){return "nl-BE"},configurable:true});Object.defineProperty(Navigator.prototype,"languages",{get:function(){return ["nl-BE","nl"]},configurable:true})}catch(e){}
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#bron-"], a[href="#livc-chat"]');
  if (!link) return;
  var id = link.getAttribute("href").slice(1);
  var card = document.getElementById(id);
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  var block = card.closest("details");
  if (block) block.open = true;
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.remove("livc-flash");
  void card.offsetWidth;
  card.classList.add("livc-flash");
  card.focus({preventScroll: true});
}, true);
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest('#livc-chat button[title="Bericht kopi\u00ebren"]');
  var row = button && button.closest(".message-row");
  var message = row && row.querySelector("[data-testid='bot'], [data-testid='user']");
  if (!message || !navigator.clipboard) return;
  var plain = message.innerText.trim();
  setTimeout(function () { navigator.clipboard.writeText(plain).catch(function () {}); }, 150);
}, true);
var livcReasonShown = false;
new MutationObserver(function () {
  var box = document.getElementById("livc-reason");
  var shown = !!(box && box.offsetParent);
  if (shown && !livcReasonShown) setTimeout(function () {
    box.scrollIntoView({behavior: "smooth", block: "nearest"});
  }, 100);
  livcReasonShown = shown;
}).observe(document.documentElement, {childList: true, subtree: true});
