// cpa-network conversion pixel. On the thank-you page:
// <script src="https://NETWORK/static/js/pixel.js" data-offer="12" data-goal="sale"
//         data-txid="ORDER-1001" data-amount="1250" async></script>
// It loads /p/<offer>.gif with the goal, txid and amount; the browser sends the attribution
// cookie the tracking link set, which names the click.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.offer) return;
  var base = script.src.replace(/\/static\/js\/pixel\.js.*$/, "");
  var data = script.dataset;
  var query = [];
  ["goal", "txid", "amount", "currency", "customer"].forEach(function (name) {
    if (data[name]) query.push(name + "=" + encodeURIComponent(data[name]));
  });
  var image = new Image(1, 1);
  image.src = base + "/p/" + encodeURIComponent(data.offer) + ".gif?" + query.join("&");
})();
