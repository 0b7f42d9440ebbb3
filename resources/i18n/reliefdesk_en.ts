<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name></name>
    <message>
        <source>程序错误：</source>
        <translation>Program error: </translation>
    </message>
    <message>
        <source>程序错误</source>
        <translation>Program error</translation>
    </message>
    <message>
        <source>错误已记录到 {path}。可以继续工作；建议保存后重新启动。</source>
        <translation>The error was logged to {path}. You can keep working; saving and restarting is advisable.</translation>
    </message>
    <message>
        <source>搜索（任意列）</source>
        <translation>Search (any column)</translation>
    </message>
    <message>
        <source>编辑</source>
        <translation>Edit</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>事件</source>
        <translation>Incident</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>记录</source>
        <translation>Entry</translation>
    </message>
    <message>
        <source>级别</source>
        <translation>Level</translation>
    </message>
    <message>
        <source>消息</source>
        <translation>Messages</translation>
    </message>
    <message>
        <source>错误</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>警告</source>
        <translation>Warning</translation>
    </message>
    <message>
        <source>信息</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>添加/更新</source>
        <translation>Add/update</translation>
    </message>
    <message>
        <source>删除行</source>
        <translation>Remove row</translation>
    </message>
    <message>
        <source>添加车辆</source>
        <translation>Add vehicle</translation>
    </message>
    <message>
        <source>删除车辆</source>
        <translation>Remove vehicle</translation>
    </message>
    <message>
        <source>车辆第 {row} 行：载重、容积、速度系数必须是数字</source>
        <translation>Vehicle row {row}: capacity, volume and speed factor must be numbers</translation>
    </message>
    <message>
        <source>经度</source>
        <translation>Lon</translation>
    </message>
    <message>
        <source>纬度</source>
        <translation>Lat</translation>
    </message>
    <message>
        <source>位置（WGS-84）</source>
        <translation>Location (WGS-84)</translation>
    </message>
    <message>
        <source>编号</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>所属乡镇</source>
        <translation>Township</translation>
    </message>
    <message>
        <source>联系方式</source>
        <translation>Contact</translation>
    </message>
    <message>
        <source>类型</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>等级</source>
        <translation>Class</translation>
    </message>
    <message>
        <source>容量（人）</source>
        <translation>Capacity (persons)</translation>
    </message>
    <message>
        <source>已安置（人）</source>
        <translation>Occupancy (persons)</translation>
    </message>
    <message>
        <source>场所物资</source>
        <translation>Shelter stock</translation>
    </message>
    <message>
        <source>力量类型</source>
        <translation>Force type</translation>
    </message>
    <message>
        <source>人数</source>
        <translation>Headcount</translation>
    </message>
    <message>
        <source>负责人</source>
        <translation>Leader</translation>
    </message>
    <message>
        <source>电话</source>
        <translation>Phone</translation>
    </message>
    <message>
        <source>其他技能，回车添加</source>
        <translation>Other skill, press Enter to add</translation>
    </message>
    <message>
        <source>技能</source>
        <translation>Skills</translation>
    </message>
    <message>
        <source>车辆</source>
        <translation>Vehicles</translation>
    </message>
    <message>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <source>风险等级</source>
        <translation>Risk level</translation>
    </message>
    <message>
        <source>说明</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>完全封闭（否则限速）</source>
        <translation>Fully closed (otherwise slowed)</translation>
    </message>
    <message>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>限速系数</source>
        <translation>Speed factor</translation>
    </message>
    <message>
        <source>影响半径（米）</source>
        <translation>Radius (m)</translation>
    </message>
    <message>
        <source>开始时间</source>
        <translation>Since</translation>
    </message>
    <message>
        <source>响应级别</source>
        <translation>Response level</translation>
    </message>
    <message>
        <source>受影响人数</source>
        <translation>Affected people</translation>
    </message>
    <message>
        <source>处置时限（分钟）</source>
        <translation>Deadline (minutes)</translation>
    </message>
    <message>
        <source>坐标</source>
        <translation>Coordinates</translation>
    </message>
    <message>
        <source>按预案重新填充</source>
        <translation>Refill from plan template</translation>
    </message>
    <message>
        <source>需求（按预案预填，可调整）</source>
        <translation>Needs (pre-filled from the plan template, adjustable)</translation>
    </message>
    <message>
        <source>所需技能 × 人数</source>
        <translation>Required skills × headcount</translation>
    </message>
    <message>
        <source>需求已手工调整，未自动更新；如需按预案重算，请点击「按预案重新填充」</source>
        <translation>Needs were adjusted by hand and were not updated; click &quot;Refill from plan template&quot; to recompute them from the template</translation>
    </message>
    <message>
        <source>无此类型的预案模板，请手工填写需求</source>
        <translation>No plan template for this type: enter the needs by hand</translation>
    </message>
    <message>
        <source>已按预案「{subtype} {level}级」填充</source>
        <translation>Filled from the plan template &quot;{subtype} level {level}&quot;</translation>
    </message>
    <message>
        <source>新储备库</source>
        <translation>New stockpile</translation>
    </message>
    <message>
        <source>新避难场所</source>
        <translation>New shelter</translation>
    </message>
    <message>
        <source>新救援队伍</source>
        <translation>New rescue team</translation>
    </message>
    <message>
        <source>新风险点</source>
        <translation>New hazard</translation>
    </message>
    <message>
        <source>新事件</source>
        <translation>New incident</translation>
    </message>
    <message>
        <source>读取工作区…</source>
        <translation>Reading workspace…</translation>
    </message>
    <message>
        <source>生成地图…</source>
        <translation>Building map…</translation>
    </message>
    <message>
        <source>加载道路网络…</source>
        <translation>Loading road network…</translation>
    </message>
    <message>
        <source>受阻路段</source>
        <translation>Affected roads</translation>
    </message>
    <message>
        <source>保存中…</source>
        <translation>Saving…</translation>
    </message>
    <message>
        <source>图层</source>
        <translation>Layers</translation>
    </message>
    <message>
        <source>变更状态</source>
        <translation>Set status</translation>
    </message>
    <message>
        <source>下一阶段</source>
        <translation>Next stage</translation>
    </message>
    <message>
        <source>事件日志</source>
        <translation>Event log</translation>
    </message>
    <message>
        <source>经度 —  纬度 —</source>
        <translation>Lon —  Lat —</translation>
    </message>
    <message>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>重做</source>
        <translation>Redo</translation>
    </message>
    <message>
        <source>文件(&amp;F)</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>编辑(&amp;E)</source>
        <translation>&amp;Edit</translation>
    </message>
    <message>
        <source>道路管制(&amp;R)</source>
        <translation>&amp;Road closures</translation>
    </message>
    <message>
        <source>视图(&amp;V)</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>界面语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>帮助(&amp;H)</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>工具栏</source>
        <translation>Toolbar</translation>
    </message>
    <message>
        <source>画管制线</source>
        <translation>Draw closure line</translation>
    </message>
    <message>
        <source>正在打开 {path}</source>
        <translation>Opening {path}</translation>
    </message>
    <message>
        <source>已取消打开 {path}</source>
        <translation>Cancelled opening {path}</translation>
    </message>
    <message>
        <source>无法打开工作区 {path}</source>
        <translation>Cannot open workspace {path}</translation>
    </message>
    <message>
        <source>打开工作区</source>
        <translation>Open workspace</translation>
    </message>
    <message>
        <source>注意：演示道路网为程序生成，非实测（文件 → 导入 OSM 道路）</source>
        <translation>Note: demo roads are generated, not surveyed (File → Import OSM roads)</translation>
    </message>
    <message>
        <source>无道路网络</source>
        <translation>No road network</translation>
    </message>
    <message>
        <source>已打开 {name}</source>
        <translation>Opened {name}</translation>
    </message>
    <message>
        <source>加载道路网络</source>
        <translation>Load road network</translation>
    </message>
    <message>
        <source>道路网络加载失败</source>
        <translation>Road network failed to load</translation>
    </message>
    <message>
        <source>道路网络：{n} 个节点，{e} 条路段</source>
        <translation>Road network: {n} nodes, {e} edges</translation>
    </message>
    <message>
        <source>计算受阻路段</source>
        <translation>Computing affected roads</translation>
    </message>
    <message>
        <source>受阻路段计算失败</source>
        <translation>Affected roads could not be computed</translation>
    </message>
    <message>
        <source>工作区 (*.gpkg)</source>
        <translation>Workspace (*.gpkg)</translation>
    </message>
    <message>
        <source>另存为</source>
        <translation>Save as</translation>
    </message>
    <message>
        <source>已保存 {path}</source>
        <translation>Saved {path}</translation>
    </message>
    <message>
        <source>保存工作区</source>
        <translation>Save workspace</translation>
    </message>
    <message>
        <source>保存失败 {path}</source>
        <translation>Saving failed: {path}</translation>
    </message>
    <message>
        <source>自动保存</source>
        <translation>Autosave</translation>
    </message>
    <message>
        <source>已自动保存恢复文件</source>
        <translation>Recovery file autosaved</translation>
    </message>
    <message>
        <source>自动保存失败</source>
        <translation>Autosave failed</translation>
    </message>
    <message>
        <source>恢复未保存的工作</source>
        <translation>Recover unsaved work</translation>
    </message>
    <message>
        <source>发现上次未正常退出时自动保存的数据（{time}，原文件：{src}）。是否恢复？</source>
        <translation>Autosaved data from a session that did not end normally was found ({time}, original file: {src}). Recover it?</translation>
    </message>
    <message>
        <source>未命名</source>
        <translation>untitled</translation>
    </message>
    <message>
        <source>未保存的修改</source>
        <translation>Unsaved changes</translation>
    </message>
    <message>
        <source>工作区有未保存的修改。是否保存？</source>
        <translation>The workspace has unsaved changes. Save them?</translation>
    </message>
    <message>
        <source>未保存</source>
        <translation>not saved</translation>
    </message>
    <message>
        <source>比例尺 1:{n:,.0f}</source>
        <translation>Scale 1:{n:,.0f}</translation>
    </message>
    <message>
        <source>单击地图确定{what}位置（Esc 取消）</source>
        <translation>Click the map to place the {what} (Esc cancels)</translation>
    </message>
    <message>
        <source>添加{what} {name}</source>
        <translation>Add {what} {name}</translation>
    </message>
    <message>
        <source>预案模板无法读取</source>
        <translation>Plan templates cannot be read</translation>
    </message>
    <message>
        <source>编辑 {name}</source>
        <translation>Edit {name}</translation>
    </message>
    <message>
        <source>确认删除</source>
        <translation>Confirm deletion</translation>
    </message>
    <message>
        <source>删除{what}「{name}」？可用撤销恢复。</source>
        <translation>Delete {what} &quot;{name}&quot;? Undo brings it back.</translation>
    </message>
    <message>
        <source>删除 {name}</source>
        <translation>Delete {name}</translation>
    </message>
    <message>
        <source>拖动地图上的标注以移动位置（可撤销）</source>
        <translation>Drag markers on the map to move them (undoable)</translation>
    </message>
    <message>
        <source>移动 {id}</source>
        <translation>Move {id}</translation>
    </message>
    <message>
        <source>无法移动 {id}</source>
        <translation>Cannot move {id}</translation>
    </message>
    <message>
        <source>无法变更事件状态</source>
        <translation>Cannot change the incident status</translation>
    </message>
    <message>
        <source>在地图上绘制道路管制（线/面：双击或单击最后一点结束）</source>
        <translation>Draw the road closure on the map (line/polygon: double-click or click the last point to finish)</translation>
    </message>
    <message>
        <source>无法识别绘制的图形</source>
        <translation>The drawn shape is not understood</translation>
    </message>
    <message>
        <source>道路管制无效</source>
        <translation>Invalid road closure</translation>
    </message>
    <message>
        <source>添加道路管制 {id}</source>
        <translation>Add road closure {id}</translation>
    </message>
    <message>
        <source>保存窗口截图</source>
        <translation>Save window screenshot</translation>
    </message>
    <message>
        <source>ReliefDesk 应急资源调度台 — 县级应急资源调度桌面 GIS</source>
        <translation>ReliefDesk — desktop GIS for county emergency resource dispatch</translation>
    </message>
    <message>
        <source>数据来源与许可：</source>
        <translation>Data sources and licences:</translation>
    </message>
    <message>
        <source>地图组件：Leaflet 1.9.4（BSD-2）、Leaflet.draw 1.0.4（MIT）、Leaflet.markercluster 1.5.3（MIT）、jQuery 3.7.1（MIT），均为本地文件。</source>
        <translation>Map components: Leaflet 1.9.4 (BSD-2), Leaflet.draw 1.0.4 (MIT), Leaflet.markercluster 1.5.3 (MIT), jQuery 3.7.1 (MIT), all served from local files.</translation>
    </message>
    <message>
        <source>道路网为演示用生成数据（非实测）。</source>
        <translation>The road network is generated for the demo (not surveyed).</translation>
    </message>
    <message>
        <source>关于与数据来源</source>
        <translation>About and data sources</translation>
    </message>
    <message>
        <source>点</source>
        <translation>point</translation>
    </message>
    <message>
        <source>线</source>
        <translation>line</translation>
    </message>
    <message>
        <source>面</source>
        <translation>polygon</translation>
    </message>
    <message>
        <source>封闭</source>
        <translation>closed</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>没有可打开的工作区：请用“文件 → 打开工作区”选择 .gpkg 文件</source>
        <translation>No workspace to open: choose a .gpkg file with File → Open workspace</translation>
    </message>
    <message>
        <source>储备库</source>
        <translation>Stockpiles</translation>
    </message>
    <message>
        <source>避难场所</source>
        <translation>Shelters</translation>
    </message>
    <message>
        <source>救援队伍</source>
        <translation>Rescue teams</translation>
    </message>
    <message>
        <source>危险源/风险点</source>
        <translation>Hazards</translation>
    </message>
    <message>
        <source>道路管制</source>
        <translation>Road closures</translation>
    </message>
    <message>
        <source>突发事件</source>
        <translation>Incidents</translation>
    </message>
    <message>
        <source>车型</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>打开工作区…</source>
        <translation>Open workspace…</translation>
    </message>
    <message>
        <source>打开演示县（合江县）</source>
        <translation>Open the demo county (Hejiang)</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>另存为…</source>
        <translation>Save as…</translation>
    </message>
    <message>
        <source>保存窗口截图…</source>
        <translation>Save window screenshot…</translation>
    </message>
    <message>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>编辑所选…</source>
        <translation>Edit selection…</translation>
    </message>
    <message>
        <source>删除所选</source>
        <translation>Delete selection</translation>
    </message>
    <message>
        <source>拖动标注移动位置</source>
        <translation>Move markers by dragging</translation>
    </message>
    <message>
        <source>按坐标新建事件…</source>
        <translation>New incident at coordinates…</translation>
    </message>
    <message>
        <source>取消当前操作</source>
        <translation>Cancel current action</translation>
    </message>
    <message>
        <source>绘制点状管制</source>
        <translation>Draw point closure</translation>
    </message>
    <message>
        <source>绘制线状管制</source>
        <translation>Draw line closure</translation>
    </message>
    <message>
        <source>绘制面状管制</source>
        <translation>Draw area closure</translation>
    </message>
    <message>
        <source>全图</source>
        <translation>Zoom to county</translation>
    </message>
    <message>
        <source>画点</source>
        <translation>Point</translation>
    </message>
    <message>
        <source>画线</source>
        <translation>Line</translation>
    </message>
    <message>
        <source>画面</source>
        <translation>Area</translation>
    </message>
    <message>
        <source>在地图上添加储备库</source>
        <translation>Add stockpile on the map</translation>
    </message>
    <message>
        <source>在地图上添加避难场所</source>
        <translation>Add shelter on the map</translation>
    </message>
    <message>
        <source>在地图上添加救援队伍</source>
        <translation>Add rescue team on the map</translation>
    </message>
    <message>
        <source>在地图上添加危险源</source>
        <translation>Add hazard on the map</translation>
    </message>
    <message>
        <source>在地图上点选新建事件</source>
        <translation>New incident at a map click</translation>
    </message>
    <message>
        <source>新建事件</source>
        <translation>New incident</translation>
    </message>
    <message>
        <source>加储备库</source>
        <translation>+Stockpile</translation>
    </message>
    <message>
        <source>加避难所</source>
        <translation>+Shelter</translation>
    </message>
    <message>
        <source>加队伍</source>
        <translation>+Team</translation>
    </message>
    <message>
        <source>加危险源</source>
        <translation>+Hazard</translation>
    </message>
    <message>
        <source>规划路线</source>
        <translation>Planned routes</translation>
    </message>
    <message>
        <source>乡镇驻地</source>
        <translation>Townships</translation>
    </message>
    <message>
        <source>村/社区</source>
        <translation>Villages</translation>
    </message>
    <message>
        <source>桥梁</source>
        <translation>Bridges</translation>
    </message>
    <message>
        <source>河流水系</source>
        <translation>Rivers and water</translation>
    </message>
    <message>
        <source>道路：程序生成（演示，非实测）</source>
        <translation>Roads: generated (demo, not surveyed)</translation>
    </message>
    <message>
        <source>县界</source>
        <translation>County outline</translation>
    </message>
    <message>
        <source>危险源</source>
        <translation>Hazards</translation>
    </message>
    <message>
        <source>物资种类</source>
        <translation>Items</translation>
    </message>
    <message>
        <source>库存总量</source>
        <translation>Total stock</translation>
    </message>
    <message>
        <source>剩余</source>
        <translation>Free</translation>
    </message>
    <message>
        <source>已安置</source>
        <translation>Occupancy</translation>
    </message>
    <message>
        <source>容量</source>
        <translation>Capacity</translation>
    </message>
    <message>
        <source>接报时间</source>
        <translation>Reported</translation>
    </message>
    <message>
        <source>几何</source>
        <translation>Geometry</translation>
    </message>
    <message>
        <source>效果</source>
        <translation>Effect</translation>
    </message>
    <message>
        <source>半径(米)</source>
        <translation>Radius (m)</translation>
    </message>
    <message>
        <source>开始</source>
        <translation>Since</translation>
    </message>
    <message>
        <source>截止</source>
        <translation>Until</translation>
    </message>
    <message>
        <source>结束</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>物资</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>数量</source>
        <translation>Quantity</translation>
    </message>
    <message>
        <source>载重(kg)</source>
        <translation>Capacity (kg)</translation>
    </message>
    <message>
        <source>容积(m³)</source>
        <translation>Volume (m³)</translation>
    </message>
    <message>
        <source>速度系数</source>
        <translation>Speed factor</translation>
    </message>
    <message>
        <source>库存</source>
        <translation>Inventory</translation>
    </message>
    <message>
        <source>安全库存</source>
        <translation>Safety stock</translation>
    </message>
    <message>
        <source>高速</source>
        <translation>Motorway</translation>
    </message>
    <message>
        <source>国道</source>
        <translation>National road</translation>
    </message>
    <message>
        <source>省道</source>
        <translation>Provincial road</translation>
    </message>
    <message>
        <source>县道</source>
        <translation>County road</translation>
    </message>
    <message>
        <source>乡道</source>
        <translation>Township road</translation>
    </message>
    <message>
        <source>村道</source>
        <translation>Village road</translation>
    </message>
    <message>
        <source>接报</source>
        <translation>Reported</translation>
    </message>
    <message>
        <source>研判</source>
        <translation>Assessing</translation>
    </message>
    <message>
        <source>调度</source>
        <translation>Dispatching</translation>
    </message>
    <message>
        <source>处置中</source>
        <translation>Responding</translation>
    </message>
    <message>
        <source>特别重大</source>
        <translation>Extraordinary</translation>
    </message>
    <message>
        <source>重大</source>
        <translation>Major</translation>
    </message>
    <message>
        <source>地图渲染进程意外退出，正在重新加载地图</source>
        <translation>The map renderer process exited unexpectedly; reloading the map</translation>
    </message>
    <message>
        <source>新建工作区</source>
        <translation>New workspace</translation>
    </message>
    <message>
        <source>导入 OSM 道路…</source>
        <translation>Import OSM roads…</translation>
    </message>
    <message>
        <source>读取 OSM 文件…</source>
        <translation>Reading the OSM file…</translation>
    </message>
    <message>
        <source>新工作区</source>
        <translation>New workspace</translation>
    </message>
    <message>
        <source>导入 OSM 道路</source>
        <translation>Import OSM roads</translation>
    </message>
    <message>
        <source>OSM 数据 (*.osm *.osm.gz *.osm.bz2 *.osm.pbf *.pbf *.graphml)</source>
        <translation>OSM data (*.osm *.osm.gz *.osm.bz2 *.osm.pbf *.pbf *.graphml)</translation>
    </message>
    <message>
        <source>已导入 OSM 道路：{n} 个节点，{e} 条路段（{src}）</source>
        <translation>Imported OSM roads: {n} nodes, {e} edges ({src})</translation>
    </message>
    <message>
        <source>无法导入 OSM 道路 {path}</source>
        <translation>Cannot import OSM roads {path}</translation>
    </message>
    <message>
        <source>底图瓦片地址…</source>
        <translation>Basemap tile URL…</translation>
    </message>
    <message>
        <source>底图瓦片地址</source>
        <translation>Basemap tile URL</translation>
    </message>
    <message>
        <source>本地或内网 XYZ 瓦片地址，例如 http://10.0.0.5/tiles/{z}/{x}/{y}.png（留空 = 无底图）：</source>
        <translation>Local or intranet XYZ tile URL, e.g. http://10.0.0.5/tiles/{z}/{x}/{y}.png (empty = no basemap):</translation>
    </message>
    <message>
        <source>瓦片地址无效</source>
        <translation>Invalid tile URL</translation>
    </message>
    <message>
        <source>地图生成失败</source>
        <translation>Map could not be built</translation>
    </message>
    <message>
        <source>读取道路…</source>
        <translation>Reading roads…</translation>
    </message>
    <message>
        <source>单击地图放置管制点</source>
        <translation>Click the map to place the closure point</translation>
    </message>
    <message>
        <source>单击开始画管制线</source>
        <translation>Click to start the closure line</translation>
    </message>
    <message>
        <source>单击继续画线</source>
        <translation>Click to continue the line</translation>
    </message>
    <message>
        <source>单击最后一点结束</source>
        <translation>Click the last point to finish</translation>
    </message>
    <message>
        <source>单击开始画管制区域</source>
        <translation>Click to start the closure area</translation>
    </message>
    <message>
        <source>单击继续画边界</source>
        <translation>Click to continue the outline</translation>
    </message>
    <message>
        <source>单击第一个点闭合区域</source>
        <translation>Click the first point to close the area</translation>
    </message>
    <message>
        <source>上移</source>
        <translation>Up</translation>
    </message>
    <message>
        <source>下移</source>
        <translation>Down</translation>
    </message>
    <message>
        <source>{r}级</source>
        <translation>Level {r}</translation>
    </message>
    <message>
        <source>较大</source>
        <translation>Large</translation>
    </message>
    <message>
        <source>一般</source>
        <translation>General</translation>
    </message>
    <message>
        <source>导出调度指令…</source>
        <translation>Export dispatch orders…</translation>
    </message>
    <message>
        <source>调度方案</source>
        <translation>Dispatch plan</translation>
    </message>
    <message>
        <source> 秒</source>
        <translation> s</translation>
    </message>
    <message>
        <source>车辆路径求解的时间上限；其余步骤通常不到 1 秒</source>
        <translation>Time limit of the vehicle routing solver; the other steps usually take under 1 s</translation>
    </message>
    <message>
        <source>求解时限</source>
        <translation>Time limit</translation>
    </message>
    <message>
        <source>路径引擎</source>
        <translation>Routing engine</translation>
    </message>
    <message>
        <source>工作区中保存的调度方案</source>
        <translation>Dispatch plans saved in the workspace</translation>
    </message>
    <message>
        <source>已存方案</source>
        <translation>Saved plans</translation>
    </message>
    <message>
        <source>生成调度方案</source>
        <translation>Generate dispatch plan</translation>
    </message>
    <message>
        <source>怎样可以满足？</source>
        <translation>How could it be met?</translation>
    </message>
    <message>
        <source>为迟到或未满足的需求查找最小调整（增派车辆、放宽时限、启用安全库存、调派队伍），逐项重新求解验证</source>
        <translation>Find the smallest change for late or unmet needs (more vehicles, a later deadline, safety stock, another team), each checked by re-planning</translation>
    </message>
    <message>
        <source>方案不是按当前数据生成的，请先重新生成调度方案</source>
        <translation>The plan was not made from the current data: generate a new dispatch plan first</translation>
    </message>
    <message>
        <source>显示的方案已更换，查找结果已丢弃</source>
        <translation>Another plan is shown now: the search result was dropped</translation>
    </message>
    <message>
        <source>{n} 项需求迟到或未满足，其中 {k} 项找到经重新求解验证的调整</source>
        <translation>{n} needs late or unmet; a change checked by re-planning was found for {k}</translation>
    </message>
    <message>
        <source>尚未生成调度方案</source>
        <translation>No dispatch plan yet</translation>
    </message>
    <message>
        <source>固定</source>
        <translation>Pin</translation>
    </message>
    <message>
        <source>固定所选队伍派往该事件（重新计算时保持）</source>
        <translation>Pin the selected team to this incident (kept when re-solving)</translation>
    </message>
    <message>
        <source>禁止</source>
        <translation>Forbid</translation>
    </message>
    <message>
        <source>禁止所选队伍派往该事件（重新计算时排除）</source>
        <translation>Forbid the selected team for this incident (excluded when re-solving)</translation>
    </message>
    <message>
        <source>把所选队伍改派到此事件（固定）</source>
        <translation>Reassign the selected team to this incident (pinned)</translation>
    </message>
    <message>
        <source>改派</source>
        <translation>Reassign</translation>
    </message>
    <message>
        <source>清除约束</source>
        <translation>Clear constraints</translation>
    </message>
    <message>
        <source>批准方案…</source>
        <translation>Approve plan…</translation>
    </message>
    <message>
        <source>导出指令…</source>
        <translation>Export orders…</translation>
    </message>
    <message>
        <source>导出英文指令…</source>
        <translation>Export orders in English…</translation>
    </message>
    <message>
        <source>打开 PDF</source>
        <translation>Open PDF</translation>
    </message>
    <message>
        <source>预加载求解器</source>
        <translation>Preloading solvers</translation>
    </message>
    <message>
        <source>没有进行中的事件，无需调度</source>
        <translation>No open incidents: nothing to dispatch</translation>
    </message>
    <message>
        <source>开始计算…</source>
        <translation>Solving…</translation>
    </message>
    <message>
        <source>正在取消，保留当前最优结果…</source>
        <translation>Cancelling, keeping the best result so far…</translation>
    </message>
    <message>
        <source>已取消，显示当前最优结果</source>
        <translation>Cancelled: showing the best result so far</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>{state}（用时 {s:.1f} 秒）</source>
        <translation>{state} ({s:.1f} s)</translation>
    </message>
    <message>
        <source>生成调度方案 {no}</source>
        <translation>Generate dispatch plan {no}</translation>
    </message>
    <message>
        <source>调度方案 {no}：{status}，未满足 {n} 项</source>
        <translation>Dispatch plan {no}: {status}, {n} needs unserved</translation>
    </message>
    <message>
        <source>首个完整方案已显示（{s:.1f} 秒），继续优化…</source>
        <translation>First complete plan shown ({s:.1f} s); still improving…</translation>
    </message>
    <message>
        <source>计算失败：{m}</source>
        <translation>Solve failed: {m}</translation>
    </message>
    <message>
        <source>调度计算失败：{m}</source>
        <translation>Dispatch solve failed: {m}</translation>
    </message>
    <message>
        <source>直达约 {m:.0f} 分钟</source>
        <translation>about {m:.0f} min direct</translation>
    </message>
    <message>
        <source>已固定</source>
        <translation>pinned</translation>
    </message>
    <message>
        <source>未满足：{r}</source>
        <translation>unserved: {r}</translation>
    </message>
    <message>
        <source>（缺）</source>
        <translation>(missing)</translation>
    </message>
    <message>
        <source>方案 {no}&#x3000;{status}&#x3000;求解：{overall}&#x3000;车辆 {v} 辆&#x3000;队伍 {t} 支&#x3000;指令 {o} 份</source>
        <translation>Plan {no}  {status}  solve: {overall}  vehicles {v}  teams {t}  orders {o}</translation>
    </message>
    <message>
        <source>{action}：{who}&#x3000;{when}</source>
        <translation>{action}: {who}  {when}</translation>
    </message>
    <message>
        <source>场景已修改：此方案基于修改前的数据，建议重新生成</source>
        <translation>The scenario changed: this plan is based on the earlier data, regenerate it</translation>
    </message>
    <message>
        <source>固定 {t}→{i}</source>
        <translation>pin {t}→{i}</translation>
    </message>
    <message>
        <source>禁止 {t}→{i}</source>
        <translation>forbid {t}→{i}</translation>
    </message>
    <message>
        <source>约束（重新生成时生效）：</source>
        <translation>Constraints (applied when regenerating):</translation>
    </message>
    <message>
        <source>无法读取方案 {no}</source>
        <translation>Cannot read plan {no}</translation>
    </message>
    <message>
        <source>请先在队伍派遣表中选择一行</source>
        <translation>Select a row in the team assignment table first</translation>
    </message>
    <message>
        <source>请先选择队伍和目标事件</source>
        <translation>Select a team and a target incident first</translation>
    </message>
    <message>
        <source>固定此派遣</source>
        <translation>Pin this assignment</translation>
    </message>
    <message>
        <source>禁止此派遣</source>
        <translation>Forbid this assignment</translation>
    </message>
    <message>
        <source>改派到</source>
        <translation>Reassign to</translation>
    </message>
    <message>
        <source>按约束重新生成</source>
        <translation>Regenerate with constraints</translation>
    </message>
    <message>
        <source>选择导出文件夹</source>
        <translation>Choose the export folder</translation>
    </message>
    <message>
        <source>已导出方案 {no} 到 {dir}</source>
        <translation>Exported plan {no} to {dir}</translation>
    </message>
    <message>
        <source>导出调度指令</source>
        <translation>Export dispatch orders</translation>
    </message>
    <message>
        <source>导出失败 {dir}：{m}</source>
        <translation>Export failed {dir}: {m}</translation>
    </message>
    <message>
        <source>OR-Tools</source>
        <translation>OR-Tools</translation>
    </message>
    <message>
        <source>PyVRP</source>
        <translation>PyVRP</translation>
    </message>
    <message>
        <source>混合（PyVRP + OR-Tools）</source>
        <translation>Hybrid (PyVRP + OR-Tools)</translation>
    </message>
    <message>
        <source>事发点</source>
        <translation>Incident</translation>
    </message>
    <message>
        <source>事发点/场所</source>
        <translation>Incident / site</translation>
    </message>
    <message>
        <source>停靠点</source>
        <translation>Stops</translation>
    </message>
    <message>
        <source>出发储备库</source>
        <translation>From stockpile</translation>
    </message>
    <message>
        <source>地点</source>
        <translation>Place</translation>
    </message>
    <message>
        <source>最后送达</source>
        <translation>Last delivery</translation>
    </message>
    <message>
        <source>用时</source>
        <translation>Duration</translation>
    </message>
    <message>
        <source>约束/说明</source>
        <translation>Constraint / note</translation>
    </message>
    <message>
        <source>缺口</source>
        <translation>Shortfall</translation>
    </message>
    <message>
        <source>趟数</source>
        <translation>Trips</translation>
    </message>
    <message>
        <source>里程</source>
        <translation>Distance</translation>
    </message>
    <message>
        <source>队伍</source>
        <translation>Team</translation>
    </message>
    <message>
        <source>项目</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>预计到达</source>
        <translation>ETA</translation>
    </message>
    <message>
        <source>概况</source>
        <translation>Overview</translation>
    </message>
    <message>
        <source>车辆路线</source>
        <translation>Vehicle routes</translation>
    </message>
    <message>
        <source>工作区已切换，已丢弃上一工作区的计算结果</source>
        <translation>The workspace changed; the result computed for the previous workspace was discarded</translation>
    </message>
    <message>
        <source>计算进程在取消后 {s:.0f} 秒内未返回，已强制终止</source>
        <translation>The solver process did not return within {s:.0f} s of cancelling and was terminated</translation>
    </message>
    <message>
        <source>计算进程意外退出（退出码 {code}）</source>
        <translation>The solver process exited unexpectedly (exit code {code})</translation>
    </message>
    <message>
        <source>{t}（+{m:.0f} 分钟）</source>
        <translation>{t} (+{m:.0f} min)</translation>
    </message>
    <message>
        <source>不足 1 分钟</source>
        <translation>under 1 min</translation>
    </message>
    <message>
        <source>{m} 分钟</source>
        <translation>{m} min</translation>
    </message>
    <message>
        <source>{h} 小时 {m} 分钟</source>
        <translation>{h} h {m} min</translation>
    </message>
    <message>
        <source>{i}：</source>
        <translation>{i}: </translation>
    </message>
    <message>
        <source>待命</source>
        <translation>Standby</translation>
    </message>
    <message>
        <source>出动</source>
        <translation>Deployed</translation>
    </message>
    <message>
        <source>休整</source>
        <translation>Resting</translation>
    </message>
    <message>
        <source>自然灾害</source>
        <translation>Natural disaster</translation>
    </message>
    <message>
        <source>事故灾难</source>
        <translation>Accident</translation>
    </message>
    <message>
        <source>公共卫生事件</source>
        <translation>Public health</translation>
    </message>
    <message>
        <source>社会安全事件</source>
        <translation>Public security</translation>
    </message>
    <message>
        <source>“{key}”的数量无效：{value!r}（须为不小于 0 的数字）</source>
        <translation>Invalid quantity for “{key}”: {value!r} (must be a number ≥ 0)</translation>
    </message>
    <message>
        <source>未批准：请填写批准人姓名。</source>
        <translation>Not approved: please enter the approver&apos;s name.</translation>
    </message>
    <message>
        <source>另有 {n} 条同类消息（展开查看）</source>
        <translation>{n} more messages of this kind (expand to see them)</translation>
    </message>
    <message>
        <source>迟到(分钟)</source>
        <translation>Late (min)</translation>
    </message>
    <message>
        <source>时限</source>
        <translation>Deadlines</translation>
    </message>
    <message>
        <source>软（全部送达，部分迟到）</source>
        <translation>Soft (all delivered, some late)</translation>
    </message>
    <message>
        <source>硬（只送能按时到的，可能少送）</source>
        <translation>Hard (only what arrives in time; may serve less)</translation>
    </message>
    <message>
        <source>软时限：能送的都送到，晚于时限的标为迟到并注明迟到多久</source>
        <translation>Soft deadlines: everything that can be delivered is, and what arrives after the deadline is marked late, with by how much</translation>
    </message>
    <message>
        <source>硬时限：只安排能在时限内到达的车辆和队伍，赶不上的列为未满足（超出时限）</source>
        <translation>Hard deadlines: only vehicles and teams that arrive in time are sent; what cannot is listed as unmet (beyond deadline)</translation>
    </message>
    <message>
        <source>迟到 {m} 分钟</source>
        <translation>{m} min late</translation>
    </message>
    <message>
        <source>（共需 {n:g}）</source>
        <translation> (of {n:g})</translation>
    </message>
    <message>
        <source>迟到</source>
        <translation>late</translation>
    </message>
    <message>
        <source>物资满足 {s}，按时 {o}；人员满足 {ss}，按时 {so}</source>
        <translation>Materials served {s}, on time {o}; staff served {ss}, on time {so}</translation>
    </message>
    <message>
        <source>；迟到 {n} 项（最长 {m} 分钟）</source>
        <translation>; {n} late (worst {m} min)</translation>
    </message>
    <message>
        <source>；未满足 {n} 项</source>
        <translation>; {n} unmet</translation>
    </message>
    <message>
        <source>；动用安全库存 {n} 项</source>
        <translation>; safety stock released: {n}</translation>
    </message>
    <message>
        <source>硬时限</source>
        <translation>hard deadlines</translation>
    </message>
    <message>
        <source>软时限</source>
        <translation>soft deadlines</translation>
    </message>
    <message>
        <source>{action}调度方案</source>
        <translation>{action} dispatch plan</translation>
    </message>
    <message>
        <source>作废原因</source>
        <translation>Reason for voiding</translation>
    </message>
    <message>
        <source>保留当前方案</source>
        <translation>Keep the current plan</translation>
    </message>
    <message>
        <source>地图上仍是当前方案 {cur}。部分方案已保存在方案列表中。</source>
        <translation>The map still shows the current plan {cur}. The partial plan is saved in the plan list.</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>姓名</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>已取消，部分方案 {no} 已保存</source>
        <translation>Cancelled; partial plan {no} saved</translation>
    </message>
    <message>
        <source>开始执行</source>
        <translation>Start execution</translation>
    </message>
    <message>
        <source>必填：作废原因</source>
        <translation>Required: why the plan is voided</translation>
    </message>
    <message>
        <source>我已知晓这是部分方案（计算未完成），确认批准</source>
        <translation>I know this is a partial plan (the computation did not finish) and approve it</translation>
    </message>
    <message>
        <source>批准人姓名</source>
        <translation>Approver&apos;s name</translation>
    </message>
    <message>
        <source>方案 {no} 状态未改变</source>
        <translation>Plan {no}: status not changed</translation>
    </message>
    <message>
        <source>方案 {no}&#x3000;{status} → {to}</source>
        <translation>Plan {no}   {status} → {to}</translation>
    </message>
    <message>
        <source>方案 {no}：{action}（{who}）</source>
        <translation>Plan {no}: {action} ({who})</translation>
    </message>
    <message>
        <source>显示部分方案</source>
        <translation>Show the partial plan</translation>
    </message>
    <message>
        <source>未作废：请填写作废原因。</source>
        <translation>Not voided: please enter the reason.</translation>
    </message>
    <message>
        <source>未办理：请填写经办人姓名。</source>
        <translation>Not done: please enter the name of the person in charge.</translation>
    </message>
    <message>
        <source>未发现未满足或迟到的需求。</source>
        <translation>No unmet or late needs found.</translation>
    </message>
    <message>
        <source>经办人姓名</source>
        <translation>Name of the person in charge</translation>
    </message>
    <message>
        <source>计算未完成：部分方案 {no}（{why}），未满足 {n} 项。</source>
        <translation>The computation did not finish: partial plan {no} ({why}), {n} needs unmet.</translation>
    </message>
    <message>
        <source>请先核对以下问题（共 {n} 项）：</source>
        <translation>Please check these points first ({n}):</translation>
    </message>
    <message>
        <source>调度方案状态</source>
        <translation>Dispatch plan status</translation>
    </message>
    <message>
        <source>部分方案</source>
        <translation>Partial plan</translation>
    </message>
    <message>
        <source>部分方案 {no} 已保存，地图仍显示当前方案 {cur}</source>
        <translation>Partial plan {no} saved; the map still shows the current plan {cur}</translation>
    </message>
    <message>
        <source>（部分方案）</source>
        <translation> (partial plan)</translation>
    </message>
    <message>
        <source>下达…</source>
        <translation>Issue…</translation>
    </message>
    <message>
        <source>开始执行…</source>
        <translation>Start execution…</translation>
    </message>
    <message>
        <source>完成…</source>
        <translation>Complete…</translation>
    </message>
    <message>
        <source>作废…</source>
        <translation>Void…</translation>
    </message>
    <message>
        <source>仍要使用此位置，请再次点击「确定」；否则请修改坐标。</source>
        <translation>To use this place anyway, click OK again; otherwise change the coordinates.</translation>
    </message>
    <message>
        <source>分钟</source>
        <translation>min</translation>
    </message>
    <message>
        <source>覆盖分析</source>
        <translation>Coverage analysis</translation>
    </message>
    <message>
        <source>覆盖分析…</source>
        <translation>Coverage analysis…</translation>
    </message>
    <message>
        <source>各类设施的可达时间、覆盖率与盲区</source>
        <translation>Travel times, coverage and blind spots of each facility set</translation>
    </message>
    <message>
        <source>规划(&amp;P)</source>
        <translation>&amp;Planning</translation>
    </message>
    <message>
        <source>默认 15,30,60,90（储备库另加 240 黄金4小时）</source>
        <translation>default 15,30,60,90 (stockpiles add 240, the golden 4 hours)</translation>
    </message>
    <message>
        <source>设施</source>
        <translation>Facilities</translation>
    </message>
    <message>
        <source>时限（分钟）</source>
        <translation>Threshold (min)</translation>
    </message>
    <message>
        <source>假设：桥梁中断</source>
        <translation>What-if: bridge out</translation>
    </message>
    <message>
        <source>假设：撤除设施</source>
        <translation>What-if: facility removed</translation>
    </message>
    <message>
        <source>计算</source>
        <translation>Compute</translation>
    </message>
    <message>
        <source>清除地图</source>
        <translation>Clear map</translation>
    </message>
    <message>
        <source>覆盖人口</source>
        <translation>People covered</translation>
    </message>
    <message>
        <source>基线比例</source>
        <translation>Baseline share</translation>
    </message>
    <message>
        <source>假设比例</source>
        <translation>What-if share</translation>
    </message>
    <message>
        <source>盲区</source>
        <translation>Blind spot</translation>
    </message>
    <message>
        <source>人口</source>
        <translation>Population</translation>
    </message>
    <message>
        <source>最短用时（分钟）</source>
        <translation>Fastest (min)</translation>
    </message>
    <message>
        <source>最近设施</source>
        <translation>Nearest facility</translation>
    </message>
    <message>
        <source>（无）</source>
        <translation>(none)</translation>
    </message>
    <message>
        <source>道路网络尚未载入，无法计算覆盖。</source>
        <translation>The road network is not loaded yet: coverage cannot be computed.</translation>
    </message>
    <message>
        <source>正在计算覆盖…</source>
        <translation>Computing coverage…</translation>
    </message>
    <message>
        <source>BD-09（百度）</source>
        <translation>BD-09 (Baidu)</translation>
    </message>
    <message>
        <source>CGCS2000 经纬度</source>
        <translation>CGCS2000 longitude/latitude</translation>
    </message>
    <message>
        <source>CGCS2000 高斯-克吕格 EPSG:4545</source>
        <translation>CGCS2000 Gauss-Krüger EPSG:4545</translation>
    </message>
    <message>
        <source>GBK（旧版 ArcGIS）</source>
        <translation>GBK (older ArcGIS)</translation>
    </message>
    <message>
        <source>GCJ-02（高德/腾讯）</source>
        <translation>GCJ-02 (AMap/Tencent)</translation>
    </message>
    <message>
        <source>Shapefile 编码</source>
        <translation>Shapefile encoding</translation>
    </message>
    <message>
        <source>WGS-84（GPS）</source>
        <translation>WGS-84 (GPS)</translation>
    </message>
    <message>
        <source>列对应关系（可修改后重新预览）</source>
        <translation>Column mapping (edit, then preview again)</translation>
    </message>
    <message>
        <source>名称 / 原因</source>
        <translation>Name / reason</translation>
    </message>
    <message>
        <source>坐标系</source>
        <translation>Coordinate system</translation>
    </message>
    <message>
        <source>坐标系：</source>
        <translation>Coordinate system: </translation>
    </message>
    <message>
        <source>对应字段</source>
        <translation>Field</translation>
    </message>
    <message>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>导入{0} {1} 条</source>
        <translation>Import {0}: {1} rows</translation>
    </message>
    <message>
        <source>导入数据</source>
        <translation>Import data</translation>
    </message>
    <message>
        <source>导入数据…</source>
        <translation>Import data…</translation>
    </message>
    <message>
        <source>导入预览</source>
        <translation>Import preview</translation>
    </message>
    <message>
        <source>导出图层</source>
        <translation>Export layer</translation>
    </message>
    <message>
        <source>导出图层…</source>
        <translation>Export layer…</translation>
    </message>
    <message>
        <source>工作区已改变，请重新预览</source>
        <translation>The workspace has changed: preview again</translation>
    </message>
    <message>
        <source>工作表/图层</source>
        <translation>Sheet / layer</translation>
    </message>
    <message>
        <source>工作表或图层名（留空：自动）</source>
        <translation>Sheet or layer name (empty: automatic)</translation>
    </message>
    <message>
        <source>已取消</source>
        <translation>Cancelled</translation>
    </message>
    <message>
        <source>新增盲区</source>
        <translation>Newly blind</translation>
    </message>
    <message>
        <source>{n} 个盲区（超过 {m:g} 分钟或不可达）</source>
        <translation>{n} blind spot(s) (beyond {m:g} min or unreachable)</translation>
    </message>
    <message>
        <source>；假设情景新增盲区 {n} 个，涉及 {p:,} 人</source>
        <translation>; the what-if adds {n} blind spot(s), {p:,} people</translation>
    </message>
    <message>
        <source>基线</source>
        <translation>Baseline</translation>
    </message>
    <message>
        <source>假设情景</source>
        <translation>What-if</translation>
    </message>
    <message>
        <source>已导出 {0} 行到 {1}</source>
        <translation>Exported {0} rows to {1}</translation>
    </message>
    <message>
        <source>库存（物资台账）</source>
        <translation>Inventory (material ledger)</translation>
    </message>
    <message>
        <source>建议：</source>
        <translation>Suggestion: </translation>
    </message>
    <message>
        <source>拒绝</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <source>数据类型</source>
        <translation>Kind of data</translation>
    </message>
    <message>
        <source>文件</source>
        <translation>File</translation>
    </message>
    <message>
        <source>文件中的列</source>
        <translation>Column in the file</translation>
    </message>
    <message>
        <source>新增</source>
        <translation>Added</translation>
    </message>
    <message>
        <source>新增 {0} 条，更新 {1} 条，拒绝 {2} 条</source>
        <translation>{0} added, {1} updated, {2} rejected</translation>
    </message>
    <message>
        <source>无法导入：</source>
        <translation>Cannot import: </translation>
    </message>
    <message>
        <source>更新</source>
        <translation>Updated</translation>
    </message>
    <message>
        <source>更新已有条目（按编号，其次按名称匹配）</source>
        <translation>Update existing entries (matched by id, else by name)</translation>
    </message>
    <message>
        <source>格式</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>正在预览…</source>
        <translation>Previewing…</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>物资目录</source>
        <translation>Material catalogue</translation>
    </message>
    <message>
        <source>目录中没有的物资：</source>
        <translation>Materials not in the catalogue: </translation>
    </message>
    <message>
        <source>结果</source>
        <translation>Result</translation>
    </message>
    <message>
        <source>自动识别</source>
        <translation>Detect automatically</translation>
    </message>
    <message>
        <source>行</source>
        <translation>Row</translation>
    </message>
    <message>
        <source>表格与图层 (*.xlsx *.xls *.csv *.shp *.geojson *.json *.kml *.kmz *.gpkg *.zip);;所有文件 (*)</source>
        <translation>Tables and layers (*.xlsx *.xls *.csv *.shp *.geojson *.json *.kml *.kmz *.gpkg *.zip);;All files (*)</translation>
    </message>
    <message>
        <source>请先选择文件</source>
        <translation>Choose a file first</translation>
    </message>
    <message>
        <source>跳过的合计/空行：</source>
        <translation>Skipped total/empty rows: </translation>
    </message>
    <message>
        <source>选择要导入的文件</source>
        <translation>Choose the file to import</translation>
    </message>
    <message>
        <source>需求点（村/社区）</source>
        <translation>Demand points (villages)</translation>
    </message>
    <message>
        <source>预览</source>
        <translation>Preview</translation>
    </message>
    <message>
        <source>{status}：建议储备 {kg:,.0f} kg，需采购 {n} 项（{buy:,.0f} kg）；{bad} 个设计事件无法满足</source>
        <translation>{status}: recommended stock {kg:,.0f} kg, {n} line(s) to buy ({buy:,.0f} kg); {bad} design incident(s) cannot be served</translation>
    </message>
    <message>
        <source>事件类型</source>
        <translation>Incident type</translation>
    </message>
    <message>
        <source>任意两个设计事件同时发生也能满足</source>
        <translation>Also serve any two design incidents at once</translation>
    </message>
    <message>
        <source>低于安全库存</source>
        <translation>Below safety stock</translation>
    </message>
    <message>
        <source>储备测算</source>
        <translation>Stock planning</translation>
    </message>
    <message>
        <source>储备测算…</source>
        <translation>Stock planning…</translation>
    </message>
    <message>
        <source>单位</source>
        <translation>Unit</translation>
    </message>
    <message>
        <source>受影响范围（米）</source>
        <translation>Affected within (m)</translation>
    </message>
    <message>
        <source>可规划</source>
        <translation>plannable</translation>
    </message>
    <message>
        <source>各储备库应储多少、缺口与采购清单</source>
        <translation>How much each stockpile should hold, gaps and what to buy</translation>
    </message>
    <message>
        <source>富余</source>
        <translation>Surplus</translation>
    </message>
    <message>
        <source>导出 XLSX…</source>
        <translation>Export XLSX…</translation>
    </message>
    <message>
        <source>导出失败：{e}</source>
        <translation>Export failed: {e}</translation>
    </message>
    <message>
        <source>工作区没有储备库。</source>
        <translation>The workspace has no stockpiles.</translation>
    </message>
    <message>
        <source>已导出：{path}</source>
        <translation>Exported: {path}</translation>
    </message>
    <message>
        <source>建议储备</source>
        <translation>Recommended</translation>
    </message>
    <message>
        <source>是</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>正在测算储备…</source>
        <translation>Planning stock…</translation>
    </message>
    <message>
        <source>现有库存</source>
        <translation>Held</translation>
    </message>
    <message>
        <source>道路网络尚未载入，无法测算储备。</source>
        <translation>The road network is not loaded: stock cannot be planned.</translation>
    </message>
    <message>
        <source> 分钟</source>
        <translation> min</translation>
    </message>
    <message>
        <source>{model}：{status}，{n} 处（新建 {new} 处），目标值 {obj}</source>
        <translation>{model}: {status}, {n} sites ({new} new), objective {obj}</translation>
    </message>
    <message>
        <source>{m} 分钟内人口比例</source>
        <translation>Share of people within {m} min</translation>
    </message>
    <message>
        <source>人口加权平均用时（分钟）</source>
        <translation>Population-weighted mean time (min)</translation>
    </message>
    <message>
        <source>保留现有设施，新增 k 处</source>
        <translation>Keep existing sites, add k new</translation>
    </message>
    <message>
        <source>已新增 {n} 处规划设施（名称带“规划”）；Ctrl+Z 可撤销。</source>
        <translation>Added {n} planned facilities (name marked “规划”); Ctrl+Z undoes it.</translation>
    </message>
    <message>
        <source>应用</source>
        <translation>Apply</translation>
    </message>
    <message>
        <source>应用选址：新增 {n} 处规划设施</source>
        <translation>Apply site plan: add {n} planned facilities</translation>
    </message>
    <message>
        <source>建议新建</source>
        <translation>Proposed new</translation>
    </message>
    <message>
        <source>把建议新建的选址作为规划设施加入工作区（可撤销）</source>
        <translation>Add the proposed new sites to the workspace as planned facilities (undoable)</translation>
    </message>
    <message>
        <source>指标</source>
        <translation>Measure</translation>
    </message>
    <message>
        <source>方案</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>最长用时（分钟）</source>
        <translation>Longest time (min)</translation>
    </message>
    <message>
        <source>模型</source>
        <translation>Model</translation>
    </message>
    <message>
        <source>正在选址…</source>
        <translation>Choosing sites…</translation>
    </message>
    <message>
        <source>现有</source>
        <translation>Existing</translation>
    </message>
    <message>
        <source>现状</source>
        <translation>Today</translation>
    </message>
    <message>
        <source>覆盖时限（最大覆盖/集合覆盖）</source>
        <translation>Coverage time (maximal / set covering)</translation>
    </message>
    <message>
        <source>设施数</source>
        <translation>Facilities</translation>
    </message>
    <message>
        <source>选址</source>
        <translation>Site planning</translation>
    </message>
    <message>
        <source>选址…</source>
        <translation>Site planning…</translation>
    </message>
    <message>
        <source>选址数量 k</source>
        <translation>Number of sites k</translation>
    </message>
    <message>
        <source>道路网络尚未载入，无法选址。</source>
        <translation>The road network is not loaded yet: cannot plan sites.</translation>
    </message>
    <message>
        <source>默认（现有设施数）</source>
        <translation>Default (number of existing facilities)</translation>
    </message>
    <message>
        <source>，下界/上界 {b:,.1f}</source>
        <translation>, bound {b:,.1f}</translation>
    </message>
    <message>
        <source>单击地图确定位置（Esc 取消）</source>
        <translation>Click the map to place it (Esc cancels)</translation>
    </message>
    <message>
        <source>储备库等设施应建在哪里（规划）</source>
        <translation>Where depots and other facilities should be built (planning)</translation>
    </message>
    <message>
        <source>p-中位（最小化人口加权时间）</source>
        <translation>p-median (least population-weighted time)</translation>
    </message>
    <message>
        <source>最大覆盖</source>
        <translation>Maximal covering</translation>
    </message>
    <message>
        <source>集合覆盖（最少设施数）</source>
        <translation>Set covering (fewest facilities)</translation>
    </message>
    <message>
        <source>有容量设施选址</source>
        <translation>Capacitated facility location</translation>
    </message>
    <message>
        <source>（忽略）</source>
        <translation>(ignore)</translation>
    </message>
    <message>
        <source>© OpenStreetMap contributors (ODbL)</source>
        <translation>© OpenStreetMap contributors (ODbL)</translation>
    </message>
    <message>
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <source>ReliefDesk 应急资源调度台</source>
        <translation>ReliefDesk emergency dispatch desk</translation>
    </message>
    <message>
        <source>界面语言：{lang}</source>
        <translation>Interface language: {lang}</translation>
    </message>
    <message>
        <source>；</source>
        <translation>; </translation>
    </message>
    <message>
        <source>人口（人）</source>
        <translation>Population (people)</translation>
    </message>
    <message>
        <source>候选站点</source>
        <translation>Candidate sites</translation>
    </message>
    <message>
        <source>可建为</source>
        <translation>May become</translation>
    </message>
    <message>
        <source>可服务/容纳(人)</source>
        <translation>Serves/holds (people)</translation>
    </message>
    <message>
        <source>可服务/容纳（人）</source>
        <translation>Serves/holds (people)</translation>
    </message>
    <message>
        <source>库容（m³）</source>
        <translation>Storage capacity (m³)</translation>
    </message>
    <message>
        <source>建设费用(万元)</source>
        <translation>Building cost (10k CNY)</translation>
    </message>
    <message>
        <source>建设费用（万元）</source>
        <translation>Building cost (10k CNY)</translation>
    </message>
    <message>
        <source>新候选站点</source>
        <translation>New candidate site</translation>
    </message>
    <message>
        <source>新需求点</source>
        <translation>New demand point</translation>
    </message>
    <message>
        <source>未填</source>
        <translation>Not stated</translation>
    </message>
    <message>
        <source>未填（不限）</source>
        <translation>Not stated (no limit)</translation>
    </message>
    <message>
        <source>权重</source>
        <translation>Weight</translation>
    </message>
    <message>
        <source>权重（× 人口）</source>
        <translation>Weight (× population)</translation>
    </message>
    <message>
        <source>需求点</source>
        <translation>Demand points</translation>
    </message>
    <message>
        <source>需求点（可编辑）</source>
        <translation>Demand points (editable)</translation>
    </message>
    <message>
        <source>在地图上添加需求点</source>
        <translation>Add a demand point on the map</translation>
    </message>
    <message>
        <source>在地图上添加候选站点</source>
        <translation>Add a candidate site on the map</translation>
    </message>
    <message>
        <source>不限</source>
        <translation>Any</translation>
    </message>
    <message>
        <source>MBTiles 瓦片 (*.mbtiles);;所有文件 (*)</source>
        <translation>MBTiles tiles (*.mbtiles);;All files (*)</translation>
    </message>
    <message>
        <source>OpenStreetMap（在线）</source>
        <translation>OpenStreetMap (online)</translation>
    </message>
    <message>
        <source>PNG 图片 (*.png);;PDF 文档 (*.pdf)</source>
        <translation>PNG image (*.png);;PDF document (*.pdf)</translation>
    </message>
    <message>
        <source>WGS-84 {lon:.5f}, {lat:.5f} | GCJ-02 {glon:.5f}, {glat:.5f}</source>
        <translation>WGS-84 {lon:.5f}, {lat:.5f} | GCJ-02 {glon:.5f}, {glat:.5f}</translation>
    </message>
    <message>
        <source>制图时间 {t}</source>
        <translation>Made {t}</translation>
    </message>
    <message>
        <source>单击地图逐点量算，双击或单击末点结束（Esc 取消）</source>
        <translation>Click the map point by point; double-click or click the last point to finish (Esc cancels)</translation>
    </message>
    <message>
        <source>单击复制坐标（WGS-84 与 GCJ-02）</source>
        <translation>Click to copy the coordinates (WGS-84 and GCJ-02)</translation>
    </message>
    <message>
        <source>图例</source>
        <translation>Legend</translation>
    </message>
    <message>
        <source>地图尚未显示，无法导出</source>
        <translation>The map is not shown yet: nothing to export</translation>
    </message>
    <message>
        <source>地图工具</source>
        <translation>Map tools</translation>
    </message>
    <message>
        <source>导出地图失败</source>
        <translation>Map export failed</translation>
    </message>
    <message>
        <source>导出当前地图视图</source>
        <translation>Export the current map view</translation>
    </message>
    <message>
        <source>导出当前地图视图（PNG/PDF）…</source>
        <translation>Export the current map view (PNG/PDF)…</translation>
    </message>
    <message>
        <source>工作区底图（离线，默认）</source>
        <translation>Workspace base map (offline, default)</translation>
    </message>
    <message>
        <source>已复制坐标：{c}</source>
        <translation>Coordinates copied: {c}</translation>
    </message>
    <message>
        <source>已定位：{name}（{kind}）</source>
        <translation>Found: {name} ({kind})</translation>
    </message>
    <message>
        <source>已导出地图：{path}</source>
        <translation>Map exported: {path}</translation>
    </message>
    <message>
        <source>底图</source>
        <translation>Base map</translation>
    </message>
    <message>
        <source>打开本地瓦片文件（MBTiles）</source>
        <translation>Open a local tile file (MBTiles)</translation>
    </message>
    <message>
        <source>无底图</source>
        <translation>No base map</translation>
    </message>
    <message>
        <source>无法打开瓦片文件</source>
        <translation>Cannot open the tile file</translation>
    </message>
    <message>
        <source>未找到地点：{q}</source>
        <translation>No place found: {q}</translation>
    </message>
    <message>
        <source>本地瓦片文件（MBTiles）…</source>
        <translation>Local tile file (MBTiles)…</translation>
    </message>
    <message>
        <source>查找地点</source>
        <translation>Find a place</translation>
    </message>
    <message>
        <source>查找地点（乡镇、村、设施、道路）</source>
        <translation>Find a place (township, village, facility, road)</translation>
    </message>
    <message>
        <source>清除量算</source>
        <translation>Clear measurements</translation>
    </message>
    <message>
        <source>腾讯地图（在线，GCJ-02 已纠偏）</source>
        <translation>Tencent Maps (online, GCJ-02 corrected)</translation>
    </message>
    <message>
        <source>距离 {length}</source>
        <translation>Distance {length}</translation>
    </message>
    <message>
        <source>量算距离</source>
        <translation>Measure distance</translation>
    </message>
    <message>
        <source>量算面积</source>
        <translation>Measure area</translation>
    </message>
    <message>
        <source>面积 {area}，周长 {length}</source>
        <translation>Area {area}, perimeter {length}</translation>
    </message>
    <message>
        <source>高德地图（在线，GCJ-02 已纠偏）</source>
        <translation>AMap (online, GCJ-02 corrected)</translation>
    </message>
    <message>
        <source>WGS-84 — | GCJ-02 —</source>
        <translation>WGS-84 — | GCJ-02 —</translation>
    </message>
    <message>
        <source>{status}：{n} 次调动；受威胁区域按时满足 {b} → {a}；其余县域 60 分钟覆盖 {rb} → {ra}</source>
        <translation>{status}: {n} movement(s); threatened area on time {b} → {a}; rest of the county within 60 min {rb} → {ra}</translation>
    </message>
    <message>
        <source>出发</source>
        <translation>From</translation>
    </message>
    <message>
        <source>发布时间</source>
        <translation>Issued</translation>
    </message>
    <message>
        <source>发布预警并记录</source>
        <translation>Issue warning and record</translation>
    </message>
    <message>
        <source>发布预警，预置物资与队伍</source>
        <translation>Issue a warning, pre-position stock and teams</translation>
    </message>
    <message>
        <source>已升级</source>
        <translation>Escalated</translation>
    </message>
    <message>
        <source>已发布预警并记录：{id}；预置方案 {no}（草稿）</source>
        <translation>Warning issued and recorded: {id}; pre-positioning {no} (draft)</translation>
    </message>
    <message>
        <source>升级所选预警</source>
        <translation>Escalate selected warning</translation>
    </message>
    <message>
        <source>经办人</source>
        <translation>Handled by</translation>
    </message>
    <message>
        <source>备注（作废须填原因）</source>
        <translation>Note (the reason, to void)</translation>
    </message>
    <message>
        <source>变更预置方案状态</source>
        <translation>Change pre-positioning status</translation>
    </message>
    <message>
        <source>预置方案</source>
        <translation>Pre-positioning</translation>
    </message>
    <message>
        <source>预置队伍待命</source>
        <translation>Pre-positioned teams on standby</translation>
    </message>
    <message>
        <source>已升级为{colour}预警：{id}（预置按原颜色计算，需要时请重新计算预置）</source>
        <translation>Escalated to a {colour} warning: {id} (the pre-positioning was computed for the earlier colour; recompute it if needed)</translation>
    </message>
    <message>
        <source>预置方案 {no}：{status}（下一步可：{next}）</source>
        <translation>Pre-positioning {no}: {status} (next: {next})</translation>
    </message>
    <message>
        <source>已解除</source>
        <translation>Lifted</translation>
    </message>
    <message>
        <source>已解除预警：{id}</source>
        <translation>Warning lifted: {id}</translation>
    </message>
    <message>
        <source>有效时长（小时）</source>
        <translation>Valid for (hours)</translation>
    </message>
    <message>
        <source>有效至</source>
        <translation>Valid until</translation>
    </message>
    <message>
        <source>橙色</source>
        <translation>Orange</translation>
    </message>
    <message>
        <source>正在计算预置…</source>
        <translation>Planning the pre-positioning…</translation>
    </message>
    <message>
        <source>物资或队伍</source>
        <translation>Item or team</translation>
    </message>
    <message>
        <source>生效</source>
        <translation>In force</translation>
    </message>
    <message>
        <source>红色</source>
        <translation>Red</translation>
    </message>
    <message>
        <source>蓝色</source>
        <translation>Blue</translation>
    </message>
    <message>
        <source>解除所选预警</source>
        <translation>Lift selected warning</translation>
    </message>
    <message>
        <source>计算预置</source>
        <translation>Plan pre-positioning</translation>
    </message>
    <message>
        <source>请先在预警列表中选择一条预警。</source>
        <translation>Select a warning in the list first.</translation>
    </message>
    <message>
        <source>请勾选要预警的危险源。</source>
        <translation>Tick the hazards to warn.</translation>
    </message>
    <message>
        <source>道路网络尚未载入，无法计算预置。</source>
        <translation>The road network is not loaded yet: cannot plan the pre-positioning.</translation>
    </message>
    <message>
        <source>预置派遣</source>
        <translation>Team to standby</translation>
    </message>
    <message>
        <source>预置测算</source>
        <translation>Pre-positioning</translation>
    </message>
    <message>
        <source>预置点</source>
        <translation>Staging point</translation>
    </message>
    <message>
        <source>预置调拨</source>
        <translation>Stock transfer</translation>
    </message>
    <message>
        <source>预警与预置</source>
        <translation>Warnings and pre-positioning</translation>
    </message>
    <message>
        <source>预警与预置…</source>
        <translation>Warnings and pre-positioning…</translation>
    </message>
    <message>
        <source>预警危险源</source>
        <translation>Warned hazards</translation>
    </message>
    <message>
        <source>预警编号</source>
        <translation>Warning no.</translation>
    </message>
    <message>
        <source>预警颜色</source>
        <translation>Warning colour</translation>
    </message>
    <message>
        <source>颜色</source>
        <translation>Colour</translation>
    </message>
    <message>
        <source>黄色</source>
        <translation>Yellow</translation>
    </message>
    <message>
        <source>预案要求</source>
        <translation>Required by the plan template</translation>
    </message>
    <message>
        <source>演练</source>
        <translation>Drill</translation>
    </message>
    <message>
        <source>新建演练脚本 {name}</source>
        <translation>New drill script {name}</translation>
    </message>
    <message>
        <source>无法导入演练脚本</source>
        <translation>Cannot import the drill script</translation>
    </message>
    <message>
        <source>导入演练脚本 {name}</source>
        <translation>Import drill script {name}</translation>
    </message>
    <message>
        <source>演练脚本 {name} 有 {n} 处问题，见时间线</source>
        <translation>Drill script {name} has {n} problem(s): see the timeline</translation>
    </message>
    <message>
        <source>无法导出演练脚本</source>
        <translation>Cannot export the drill script</translation>
    </message>
    <message>
        <source>删除演练脚本 {name}</source>
        <translation>Delete drill script {name}</translation>
    </message>
    <message>
        <source>编辑演练脚本 {name}</source>
        <translation>Edit drill script {name}</translation>
    </message>
    <message>
        <source>添加演练插入</source>
        <translation>Add drill inject</translation>
    </message>
    <message>
        <source>编辑演练插入</source>
        <translation>Edit drill inject</translation>
    </message>
    <message>
        <source>删除演练插入</source>
        <translation>Delete drill inject</translation>
    </message>
    <message>
        <source>演练脚本不能运行</source>
        <translation>The drill script cannot run</translation>
    </message>
    <message>
        <source>演练自动调度（第 {n} 步）</source>
        <translation>Drill auto re-plan (step {n})</translation>
    </message>
    <message>
        <source>演练第 {n} 步的自动调度已取消，采用当前最优方案 {no}</source>
        <translation>Auto re-plan of drill step {n} cancelled: the best plan so far, {no}, is used</translation>
    </message>
    <message>
        <source>演练自动调度失败：{m}</source>
        <translation>Drill auto re-plan failed: {m}</translation>
    </message>
    <message>
        <source>还没有可导出的演练步骤</source>
        <translation>No drill steps to export yet</translation>
    </message>
    <message>
        <source>导出演练报告</source>
        <translation>Export drill report</translation>
    </message>
    <message>
        <source>演练报告导出失败：{m}</source>
        <translation>Drill report export failed: {m}</translation>
    </message>
    <message>
        <source>演练脚本</source>
        <translation>Drill script</translation>
    </message>
    <message>
        <source>新建…</source>
        <translation>New…</translation>
    </message>
    <message>
        <source>导入…</source>
        <translation>Import…</translation>
    </message>
    <message>
        <source>导出…</source>
        <translation>Export…</translation>
    </message>
    <message>
        <source>添加插入…</source>
        <translation>Add inject…</translation>
    </message>
    <message>
        <source>地图上放置事件</source>
        <translation>Place incident on map</translation>
    </message>
    <message>
        <source>地图上画中断</source>
        <translation>Draw closure on map</translation>
    </message>
    <message>
        <source>编辑…</source>
        <translation>Edit…</translation>
    </message>
    <message>
        <source>删除插入</source>
        <translation>Delete inject</translation>
    </message>
    <message>
        <source>人工调度</source>
        <translation>Manual re-planning</translation>
    </message>
    <message>
        <source>自动调度</source>
        <translation>Automatic re-planning</translation>
    </message>
    <message>
        <source> 秒/步</source>
        <translation> s/step</translation>
    </message>
    <message>
        <source>种子 </source>
        <translation>Seed </translation>
    </message>
    <message>
        <source>开始演练</source>
        <translation>Start drill</translation>
    </message>
    <message>
        <source>播放</source>
        <translation>Play</translation>
    </message>
    <message>
        <source>暂停</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>下一插入</source>
        <translation>Next inject</translation>
    </message>
    <message>
        <source>继续（不调度）</source>
        <translation>Continue (no re-plan)</translation>
    </message>
    <message>
        <source>取消调度</source>
        <translation>Cancel re-plan</translation>
    </message>
    <message>
        <source>导出报告…</source>
        <translation>Export report…</translation>
    </message>
    <message>
        <source>评分</source>
        <translation>Scorecard</translation>
    </message>
    <message>
        <source>新建演练脚本</source>
        <translation>New drill script</translation>
    </message>
    <message>
        <source>导入演练脚本</source>
        <translation>Import drill script</translation>
    </message>
    <message>
        <source>演练脚本 (*.json)</source>
        <translation>Drill scripts (*.json)</translation>
    </message>
    <message>
        <source>导出演练脚本</source>
        <translation>Export drill script</translation>
    </message>
    <message>
        <source>单击地图确定演练事件位置</source>
        <translation>Click the map to place the drill incident</translation>
    </message>
    <message>
        <source>在地图上绘制演练道路中断（线/面：双击或单击最后一点结束）</source>
        <translation>Draw the drill&apos;s road closure on the map (line/area: double-click or click the last point to finish)</translation>
    </message>
    <message>
        <source>结束演练</source>
        <translation>End drill</translation>
    </message>
    <message>
        <source>未开始演练</source>
        <translation>No drill running</translation>
    </message>
    <message>
        <source>模拟时间 {t}（T+{m:g} 分，×{s:g}）</source>
        <translation>Simulated time {t} (T+{m:g} min, ×{s:g})</translation>
    </message>
    <message>
        <source>演练已结束</source>
        <translation>Drill ended</translation>
    </message>
    <message>
        <source>基准方案</source>
        <translation>Baseline plan</translation>
    </message>
    <message>
        <source>第 {n} 步（{what}）：自动调度中…</source>
        <translation>Step {n} ({what}): re-planning automatically…</translation>
    </message>
    <message>
        <source>第 {n} 步（{what}）：请在调度方案面板生成并批准方案</source>
        <translation>Step {n} ({what}): make and approve a plan in the Dispatch plan panel</translation>
    </message>
    <message>
        <source>全部插入已完成</source>
        <translation>All injects done</translation>
    </message>
    <message>
        <source>下一插入：T+{m:g} 分 {what}</source>
        <translation>Next inject: T+{m:g} min {what}</translation>
    </message>
    <message>
        <source>导出演练报告到文件夹</source>
        <translation>Export the drill report to a folder</translation>
    </message>
    <message>
        <source>演练报告已导出到 {path}</source>
        <translation>Drill report exported to {path}</translation>
    </message>
    <message>
        <source>时间（开始后分钟）</source>
        <translation>Time (minutes after start)</translation>
    </message>
    <message>
        <source>插入类型</source>
        <translation>Inject kind</translation>
    </message>
    <message>
        <source>按预案</source>
        <translation>From the plan template</translation>
    </message>
    <message>
        <source>新响应级别</source>
        <translation>New response level</translation>
    </message>
    <message>
        <source>新受影响人数</source>
        <translation>New people affected</translation>
    </message>
    <message>
        <source>完全封闭</source>
        <translation>Fully closed</translation>
    </message>
    <message>
        <source>在地图上绘制，或填写 GeoJSON 几何</source>
        <translation>Draw on the map, or type a GeoJSON geometry</translation>
    </message>
    <message>
        <source>请填写事件编号</source>
        <translation>Enter the incident id</translation>
    </message>
    <message>
        <source>请填写管制编号</source>
        <translation>Enter the closure id</translation>
    </message>
    <message>
        <source>几何不是有效的 GeoJSON：{e}</source>
        <translation>The geometry is not valid GeoJSON: {e}</translation>
    </message>
    <message>
        <source>请在地图上绘制道路中断的位置，或填写 GeoJSON 几何</source>
        <translation>Draw where the road is cut on the map, or type a GeoJSON geometry</translation>
    </message>
    <message>
        <source>请选择对象</source>
        <translation>Choose the target</translation>
    </message>
    <message>
        <source>时间(分)</source>
        <translation>Time (min)</translation>
    </message>
    <message>
        <source>对象</source>
        <translation>Target</translation>
    </message>
    <message>
        <source>详情</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>检查</source>
        <translation>Check</translation>
    </message>
    <message>
        <source>模拟时间</source>
        <translation>Simulated time</translation>
    </message>
    <message>
        <source>墙钟时间</source>
        <translation>Wall-clock time</translation>
    </message>
    <message>
        <source>决定</source>
        <translation>Decision</translation>
    </message>
    <message>
        <source>步骤</source>
        <translation>Step</translation>
    </message>
    <message>
        <source>插入</source>
        <translation>Inject</translation>
    </message>
    <message>
        <source>按时安置人数</source>
        <translation>People sheltered on time</translation>
    </message>
    <message>
        <source>按时到场队伍</source>
        <translation>Teams on site on time</translation>
    </message>
    <message>
        <source>车辆公里</source>
        <translation>Vehicle-km</translation>
    </message>
    <message>
        <source>变更指令</source>
        <translation>Orders changed</translation>
    </message>
    <message>
        <source>步骤数</source>
        <translation>Steps</translation>
    </message>
    <message>
        <source>已调度步骤</source>
        <translation>Steps planned</translation>
    </message>
    <message>
        <source>最长用时(秒)</source>
        <translation>Longest time taken (s)</translation>
    </message>
    <message>
        <source>首个方案最长(秒)</source>
        <translation>Longest first plan (s)</translation>
    </message>
    <message>
        <source>变更指令合计</source>
        <translation>Orders changed, total</translation>
    </message>
    <message>
        <source>最终按时需求</source>
        <translation>Final needs on time</translation>
    </message>
    <message>
        <source>最终迟到需求</source>
        <translation>Final needs late</translation>
    </message>
    <message>
        <source>最终未满足需求</source>
        <translation>Final needs unmet</translation>
    </message>
    <message>
        <source>最终按时安置人数</source>
        <translation>Final people sheltered on time</translation>
    </message>
    <message>
        <source>最终按时到场队伍</source>
        <translation>Final teams on site on time</translation>
    </message>
    <message>
        <source>最终车辆公里</source>
        <translation>Final vehicle-km</translation>
    </message>
    <message>
        <source>动用安全库存(最多)</source>
        <translation>Safety stock used (most)</translation>
    </message>
    <message>
        <source>数值</source>
        <translation>Value</translation>
    </message>
    <message>
        <source>新增事件</source>
        <translation>New incident</translation>
    </message>
    <message>
        <source>事件升级</source>
        <translation>Escalation</translation>
    </message>
    <message>
        <source>道路中断</source>
        <translation>Road closure</translation>
    </message>
    <message>
        <source>道路恢复</source>
        <translation>Road reopened</translation>
    </message>
    <message>
        <source>队伍不可用</source>
        <translation>Team unavailable</translation>
    </message>
    <message>
        <source>储备点损毁</source>
        <translation>Stockpile lost</translation>
    </message>
    <message>
        <source>安置点满员</source>
        <translation>Shelter full</translation>
    </message>
    <message>
        <source>速度系数（0 = 封闭）</source>
        <translation>Speed factor (0 = closed)</translation>
    </message>
    <message>
        <source>几何（GeoJSON）</source>
        <translation>Geometry (GeoJSON)</translation>
    </message>
    <message>
        <source>恢复的道路管制</source>
        <translation>Closure reopened</translation>
    </message>
    <message>
        <source>演练插入</source>
        <translation>Drill inject</translation>
    </message>
    <message>
        <source>{name}（{id}）</source>
        <translation>{name} ({id})</translation>
    </message>
    <message>
        <source>&#x3000;{note}</source>
        <translation>  {note}</translation>
    </message>
    <message>
        <source>{mode}&#x3000;</source>
        <translation>{mode}  </translation>
    </message>
    <message>
        <source>储</source>
        <translation>D</translation>
    </message>
    <message>
        <source>… 共 {n} 项</source>
        <translation>… {n} items in all</translation>
    </message>
    <message>
        <source>，</source>
        <translation>, </translation>
    </message>
    <message>
        <source>{n} 人</source>
        <translation>{n} persons</translation>
    </message>
    <message>
        <source>{name}（余 {n} 人）</source>
        <translation>{name} ({n} places free)</translation>
    </message>
    <message>
        <source>避</source>
        <translation>S</translation>
    </message>
    <message>
        <source>{n} 辆</source>
        <translation>{n} vehicles</translation>
    </message>
    <message>
        <source>联系</source>
        <translation>Contact</translation>
    </message>
    <message>
        <source>{name}（{what}）</source>
        <translation>{name} ({what})</translation>
    </message>
    <message>
        <source>队</source>
        <translation>T</translation>
    </message>
    <message>
        <source>{r}级（{name}）</source>
        <translation>{r} ({name})</translation>
    </message>
    <message>
        <source>需求</source>
        <translation>Needs</translation>
    </message>
    <message>
        <source>{name}（{r}级 · {status}）</source>
        <translation>{name} ({r} · {status})</translation>
    </message>
    <message>
        <source>区划代码</source>
        <translation>Division code</translation>
    </message>
    <message>
        <source>驻地坐标来源</source>
        <translation>Seat coordinates from</translation>
    </message>
    <message>
        <source>限速（×{f}）</source>
        <translation>Speed limited (×{f})</translation>
    </message>
    <message>
        <source>道路管制 {id}</source>
        <translation>Road closure {id}</translation>
    </message>
    <message>
        <source>半径</source>
        <translation>Radius</translation>
    </message>
    <message>
        <source>(无名道路)</source>
        <translation>(unnamed road)</translation>
    </message>
    <message>
        <source>CGCS2000</source>
        <translation>CGCS2000</translation>
    </message>
    <message>
        <source>未打开工作区</source>
        <translation>No workspace open</translation>
    </message>
    <message>
        <source>无法打开 {path}：{message}</source>
        <translation>Cannot open {path}: {message}</translation>
    </message>
    <message>
        <source>请用 文件 → 打开工作区… 或 打开演示县（合江县）。</source>
        <translation>Use File → Open workspace… or Open the demo county (Hejiang).</translation>
    </message>
    <message>
        <source>已取消导入 OSM 道路（{src}），工作区未改动</source>
        <translation>OSM road import cancelled ({src}); the workspace is unchanged</translation>
    </message>
    <message>
        <source>载入对应关系…</source>
        <translation>Load mapping…</translation>
    </message>
    <message>
        <source>保存对应关系…</source>
        <translation>Save mapping…</translation>
    </message>
    <message>
        <source>保存为模板（JSON，与命令行 --save-mapping / --mapping 相同），明年的台账直接套用</source>
        <translation>Save as a template (JSON, the same as the command line&apos;s --save-mapping / --mapping) for next year&apos;s ledger</translation>
    </message>
    <message>
        <source>请先预览，得到列对应关系后再保存</source>
        <translation>Preview first to get a column mapping, then save it</translation>
    </message>
    <message>
        <source>保存对应关系</source>
        <translation>Save mapping</translation>
    </message>
    <message>
        <source>载入对应关系</source>
        <translation>Load mapping</translation>
    </message>
    <message>
        <source>对应关系模板 (*.json)</source>
        <translation>Mapping templates (*.json)</translation>
    </message>
    <message>
        <source>无法保存对应关系：</source>
        <translation>Cannot save the mapping: </translation>
    </message>
    <message>
        <source>已保存对应关系：</source>
        <translation>Mapping saved: </translation>
    </message>
    <message>
        <source>无法载入对应关系：</source>
        <translation>Cannot load the mapping: </translation>
    </message>
    <message>
        <source>已载入对应关系：</source>
        <translation>Mapping loaded: </translation>
    </message>
    <message>
        <source>在线底图：{name}（需要网络连接；离线时请改用工作区底图或本地瓦片）</source>
        <translation>Online base map: {name} (needs a network connection; offline, use the workspace base map or local tiles)</translation>
    </message>
    <message>
        <source>监测</source>
        <translation>Monitoring</translation>
    </message>
    <message>
        <source>不设</source>
        <translation>None</translation>
    </message>
    <message>
        <source>记录读数</source>
        <translation>Record reading</translation>
    </message>
    <message>
        <source>导入读数…</source>
        <translation>Import readings…</translation>
    </message>
    <message>
        <source>读数</source>
        <translation>Reading</translation>
    </message>
    <message>
        <source>雨量</source>
        <translation>Rainfall</translation>
    </message>
    <message>
        <source>水位</source>
        <translation>Water level</translation>
    </message>
    <message>
        <source>位移</source>
        <translation>Displacement</translation>
    </message>
    <message>
        <source>气体浓度</source>
        <translation>Gas concentration</translation>
    </message>
    <message>
        <source>连接共享数据库…</source>
        <translation>Connect to shared database…</translation>
    </message>
    <message>
        <source>打开多席位共享的 PostGIS 工作区（实时更新）</source>
        <translation>Open a PostGIS workspace shared by several desks (live updates)</translation>
    </message>
    <message>
        <source>连接共享数据库</source>
        <translation>Connect to shared database</translation>
    </message>
    <message>
        <source>数据库地址（postgresql://用户:密码@主机:端口/库名）</source>
        <translation>Database URL (postgresql://user:password@host:port/database)</translation>
    </message>
    <message>
        <source>不是数据库地址</source>
        <translation>Not a database URL</translation>
    </message>
    <message>
        <source>应以 postgresql:// 开头</source>
        <translation>It must start with postgresql://</translation>
    </message>
    <message>
        <source>无法读取共享数据库</source>
        <translation>Cannot read the shared database</translation>
    </message>
    <message>
        <source>共享数据库已整体更新（{who}）</source>
        <translation>The shared database was replaced as a whole ({who})</translation>
    </message>
    <message>
        <source>共享数据库更新：{table} {id}（{who}，版本 {version}）</source>
        <translation>Shared database update: {table} {id} ({who}, version {version})</translation>
    </message>
    <message>
        <source>共享数据库有 {n} 处更新未载入（本机有未保存的修改）</source>
        <translation>{n} shared database updates not loaded (this desk has unsaved changes)</translation>
    </message>
    <message>
        <source>共享数据库有 {n} 处更新暂缓载入（本机正在修改这些记录）</source>
        <translation>{n} shared database updates held back (this desk is editing those records)</translation>
    </message>
    <message>
        <source>共享数据库更新 {n} 处：{what}</source>
        <translation>Shared database: {n} updates: {what}</translation>
    </message>
    <message>
        <source>共享数据库更新无法逐条载入，重新读取：{e}</source>
        <translation>Shared database updates could not be applied record by record; reading it again: {e}</translation>
    </message>
    <message>
        <source>连接恢复：断线期间的更新无法逐条补上（{reason}），重新读取整个共享工作区</source>
        <translation>Connection back: the changes made while it was lost cannot be caught up record by record ({reason}); reading the whole shared workspace again</translation>
    </message>
    <message>
        <source>连接恢复：已逐条补上断线期间其他席位的 {n} 处记录更新（未重新读取整个工作区）</source>
        <translation>Connection back: {n} records other desks changed while it was lost were caught up one by one (the workspace was not read again)</translation>
    </message>
    <message>
        <source>与共享数据库的连接已断开：保留最后画面（只读），恢复后自动继续</source>
        <translation>Connection to the shared database lost: the last picture stays (read only); it resumes by itself</translation>
    </message>
    <message>
        <source>共享数据库 · 角色 {role}</source>
        <translation>Shared database · role {role}</translation>
    </message>
    <message>
        <source>已保存到共享数据库：{n} 行</source>
        <translation>Saved to the shared database: {n} rows</translation>
    </message>
    <message>
        <source>共享数据库拒绝了修改</source>
        <translation>The shared database refused the change</translation>
    </message>
    <message>
        <source>{n} 处修改未发送（连接恢复后可重发）</source>
        <translation>{n} changes not sent (can be resent when the connection is back)</translation>
    </message>
    <message>
        <source>修改冲突</source>
        <translation>Edit conflict</translation>
    </message>
    <message>
        <source>其他席位已修改了您正在保存的记录。保留哪一份？</source>
        <translation>Another desk changed the record you are saving. Which one do you keep?</translation>
    </message>
    <message>
        <source>保留我的修改</source>
        <translation>Keep my change</translation>
    </message>
    <message>
        <source>采用数据库中的版本</source>
        <translation>Take the database&apos;s version</translation>
    </message>
    <message>
        <source>连接已恢复</source>
        <translation>Connection restored</translation>
    </message>
    <message>
        <source>有 {n} 处修改尚未发送到共享数据库。现在重发吗？</source>
        <translation>{n} changes have not been sent to the shared database. Resend them now?</translation>
    </message>
    <message>
        <source>我的</source>
        <translation>mine</translation>
    </message>
    <message>
        <source>数据库</source>
        <translation>database</translation>
    </message>
    <message>
        <source>位置</source>
        <translation>location</translation>
    </message>
    <message>
        <source>方案基于共享数据库数据版本 {v} 计算，期间数据未变</source>
        <translation>The plan was solved against shared database data version {v}; the data did not change meanwhile</translation>
    </message>
    <message>
        <source>方案基于共享数据库数据版本 {v} 计算；计算期间其他席位修改了 {n} 处：{what}。请核对或重新生成</source>
        <translation>The plan was solved against shared database data version {v}; other desks changed {n} records meanwhile: {what}. Check it or solve again</translation>
    </message>
    <message>
        <source>演练开始</source>
        <translation>Drill start</translation>
    </message>
    <message>
        <source>决定记录</source>
        <translation>Decision log</translation>
    </message>
    <message>
        <source>限速 ×{f:g}</source>
        <translation>slowed ×{f:g}</translation>
    </message>
    <message>
        <source>事件复盘…</source>
        <translation>After-action review…</translation>
    </message>
    <message>
        <source>事件记录的时间线与信息报告时限（只读）</source>
        <translation>Timeline of the event log and information-report deadlines (read-only)</translation>
    </message>
    <message>
        <source>事件复盘</source>
        <translation>After-action review</translation>
    </message>
    <message>
        <source>无法复盘：</source>
        <translation>Cannot review: </translation>
    </message>
    <message>
        <source>时间线</source>
        <translation>Timeline</translation>
    </message>
    <message>
        <source>信息报告时限</source>
        <translation>Report deadlines</translation>
    </message>
    <message>
        <source>接报到下达</source>
        <translation>Report to issued plan</translation>
    </message>
    <message>
        <source>信息报告时限自接报起算（默认值及依据见 README；红色：迟报或逾期未报）。与优化方案的对比需重新求解，请运行 python app.py review 工作区 --out 目录。</source>
        <translation>Report deadlines count from the first report received (defaults and their sources: README; red: reported late or overdue). The comparison with the optimiser re-solves at each moment: run python app.py review WORKSPACE --out DIR.</translation>
    </message>
    <message>
        <source>当时已知</source>
        <translation>Known then</translation>
    </message>
    <message>
        <source>生效方案</source>
        <translation>Plan in force</translation>
    </message>
    <message>
        <source>时限(分)</source>
        <translation>Deadline (min)</translation>
    </message>
    <message>
        <source>应报时间</source>
        <translation>Report due</translation>
    </message>
    <message>
        <source>首报</source>
        <translation>First report</translation>
    </message>
    <message>
        <source>超时</source>
        <translation>Overdue by</translation>
    </message>
    <message>
        <source>首个覆盖该事件的方案下达</source>
        <translation>First plan covering it issued</translation>
    </message>
    <message>
        <source>用时(分)</source>
        <translation>Minutes</translation>
    </message>
    <message>
        <source>建议新建（候选站点）</source>
        <translation>Proposed new (candidate site)</translation>
    </message>
    <message>
        <source>库容(m³)</source>
        <translation>Capacity (m³)</translation>
    </message>
    <message>
        <source>发布预警</source>
        <translation>Warning issued</translation>
    </message>
    <message>
        <source>时刻</source>
        <translation>Moment</translation>
    </message>
    <message>
        <source>触发</source>
        <translation>Trigger</translation>
    </message>
    <message>
        <source>优化方案</source>
        <translation>Optimiser's plan</translation>
    </message>
    <message>
        <source>新增/撤销/改道指令</source>
        <translation>Orders added/removed/rerouted</translation>
    </message>
    <message>
        <source>各事件物资满足（生效 / 优化）</source>
        <translation>Materials served per incident (in force / optimiser)</translation>
    </message>
    <message>
        <source>依据</source>
        <translation>Source</translation>
    </message>
    <message>
        <source>假设</source>
        <translation>Assumption</translation>
    </message>
</context>
</TS>
