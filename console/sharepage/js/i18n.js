// The share page's words in English and Simplified Chinese, the console's way: static text in
// index.html names its key with data-i18n (text) or data-i18n-label (aria-label); scripts call
// t(key, values).

const messages = {
  en: {
    brand: "Shared files",
    language: "Language",
    loading: "Loading…",
    codeLabel: "Extraction code",
    codeHelp: "The person who shared these files gave you a code of up to 6 characters.",
    codeRequired: "Enter the extraction code.",
    codeWrong: "That extraction code is not right. Check it and try again.",
    open: "Open",
    files: "Files",
    folders: "Folders",
    root: "All shared files",
    downloadFolder: "Download all (zip)",
    emptyFolder: "This folder is empty.",
    more: "Load more",
    close: "Close",
    download: "Download",
    downloadZip: "Download (zip)",
    preview: "Preview",
    play: "Play",
    kindDir: "Folder",
    notFound: "This share link does not exist. It may have been deleted, or the link is incomplete: check that you copied all of it.",
    disabled: "This share has been turned off by the person who shared it (or by the site's operator). Its files cannot be opened now.",
    expired: "This share has expired. Ask the person who shared it for a new link.",
    rejected: "This share is not available: it did not pass review.",
    loginRequired: "This share is only for signed-in users. Open the link in the app that it was shared from; this page cannot sign you in.",
    nothingLeft: "The shared files are no longer there: they were moved or deleted.",
    noAccess: "You can see what is shared here, but the person who shared it allowed neither preview nor download.",
    problem: "Something went wrong: {code} {message}",
    networkError: "The server cannot be reached. Check your connection and try again.",
    sharedBy: "Shared by {user}",
    expires: "Available until {time}",
    permanent: "Does not expire",
    previewFailed: "This file cannot be shown here. You can download it instead.",
    cannotPreview: "Preview is not allowed (or its limit was reached) for this share.",
    cannotDownload: "Download is not allowed (or its limit was reached) for this share.",
  },
  "zh-CN": {
    brand: "分享的文件",
    language: "语言",
    loading: "正在加载…",
    codeLabel: "提取码",
    codeHelp: "分享者会给你一个最多 6 个字符的提取码。",
    codeRequired: "请输入提取码。",
    codeWrong: "提取码不正确，请检查后重试。",
    open: "打开",
    files: "文件",
    folders: "文件夹",
    root: "全部分享文件",
    downloadFolder: "全部下载（zip）",
    emptyFolder: "此文件夹为空。",
    more: "加载更多",
    close: "关闭",
    download: "下载",
    downloadZip: "下载（zip）",
    preview: "预览",
    play: "播放",
    kindDir: "文件夹",
    notFound: "此分享链接不存在。它可能已被删除，或链接不完整：请确认复制了完整的链接。",
    disabled: "此分享已被分享者（或站点管理员）关闭，目前无法打开其中的文件。",
    expired: "此分享已过期。请向分享者索取新的链接。",
    rejected: "此分享不可用：未通过审核。",
    loginRequired: "此分享仅限已登录的用户。请在分享它的应用中打开此链接；本页面无法为你登录。",
    nothingLeft: "分享的文件已不在原处：它们已被移动或删除。",
    noAccess: "你可以看到分享了哪些文件，但分享者既未允许预览也未允许下载。",
    problem: "出错了：{code} {message}",
    networkError: "无法连接服务器。请检查网络后重试。",
    sharedBy: "分享者：{user}",
    expires: "有效期至 {time}",
    permanent: "永久有效",
    previewFailed: "此文件无法在此显示，你可以下载它。",
    cannotPreview: "此分享不允许预览（或已达到预览次数上限）。",
    cannotDownload: "此分享不允许下载（或已达到下载次数上限）。",
  },
};

let current = "en";

// setLanguage switches the words (and <html lang>) and rewrites the static text.
export function setLanguage(lang) {
  current = messages[lang] ? lang : "en";
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
}

export function language() {
  return current;
}

// t answers the text of key with {name} placeholders filled from values.
export function t(key, values = {}) {
  const text = messages[current][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

// preferredLanguage: the browser's preferred language when it is Chinese, English otherwise.
export function preferredLanguage() {
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l && l.toLowerCase().startsWith("zh")) {
      return "zh-CN";
    }
  }
  return "en";
}
